using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /register</c>.</summary>
public static class RegistrationApi
{
    public static IEndpointRouteBuilder MapRegistration(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/register", Register)
            .WithName("Register")
            .WithTags("Accounts")
            .WithSummary("Create an account and mail its activation link")
            .WithDescription(
                "Answers 202 once the account and its activation mail are committed; the mail goes out in the background. "
                + "An email that already has an account gets the same 202, creates nothing, and its owner is mailed instead.")
            .Accepts<RegisterRequest>("application/json")
            .WithValidation<RegisterRequest>()
            .RequireRateLimiting(RateLimits.Register)
            .WithProblem(StatusCodes.Status409Conflict, AccountErrors.UsernameTaken)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: the request is normalized and every rule holds.
    public static async Task<Results<Accepted<RegisterResponse>, ProblemHttpResult>> Register(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RegisterRequest request,
        HttpRequest httpRequest,
        [AsParameters] AccountServices services,
        IOptions<ActivationOptions> activation,
        CancellationToken cancellationToken)
    {
        var (username, email) = (request.Username, request.Email);
        DateOnly? birthday = RegisterRequestValidator.TryParseDate(request.Birthday, out var date) ? date : null;

        // Hash on every path, taken email included, so timing does not tell which path ran.
        var passwordHash = await services.Hashing.HashAsync(request.Password, cancellationToken);
        var now = services.Time.GetUtcNow();
        var language = Languages.FromRequest(httpRequest);

        // The unique keys refuse a second account, and a write that hits one runs again and sees
        // the first: that spares the hot path serializable's false conflicts between registrations
        // of neighbouring names (WriteNeeds.KeysAndLocks).
        var outcome = await services.Database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
        {
            if (await session.Users.UsernameExistsAsync(username))
            {
                return Outcome.UsernameTaken;
            }

            if (await session.Users.FindByEmailAsync(email) is { } owner)
            {
                // The address has an account: create nothing, and mail its owner a fresh link
                // (still pending) or a notice (active) instead.
                var kind = owner.Status == AccountStatus.Active ? AccountExistsEmailComposer.Kind : ActivationEmailComposer.Kind;
                return await AccountMail.QueueAsync(session, owner, kind,
                    ActivationEmailComposer.CooldownKinds, activation.Value.ResendCooldown, now) is { } queued
                    ? Outcome.Queued(queued)
                    : Outcome.Nothing;
            }

            var user = new User
            {
                Id = Guid.CreateVersion7(now),
                Username = username,
                Email = email,
                PasswordHash = passwordHash,
                Birthday = birthday,
                Language = language,
                Status = AccountStatus.PendingActivation,
                CreatedAt = now,
                SecurityStamp = User.NewSecurityStamp(),
            };
            await session.Users.InsertAsync(user);
            var outboxId = await session.Outbox.AddAsync(new NewOutboxMessage(ActivationEmailComposer.Kind, [email], user.Id, language), now);
            await services.Events.QueueAsync(session, AccountEvents.Registered, user, now);
            return Outcome.Queued(outboxId);
        }, cancellationToken).ConfigureAwait(false);

        if (outcome.IsUsernameTaken)
        {
            return Problems.Problem(StatusCodes.Status409Conflict, AccountErrors.UsernameTaken, "The username is taken.",
                $"Another account already uses the username '{username}'.");
        }

        if (outcome.OutboxId is not null)
        {
            services.Outbox.Notify();
        }

        return TypedResults.Accepted((string?)null, new RegisterResponse(username, email, AccountStatus.PendingActivation));
    }

    private sealed record Outcome(bool IsUsernameTaken, long? OutboxId)
    {
        public static readonly Outcome UsernameTaken = new(true, null);
        public static readonly Outcome Nothing = new(false, null);

        public static Outcome Queued(long outboxId) => new(false, outboxId);
    }
}
