using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /register</c>.</summary>
public static class RegistrationApi
{
    public const string UsernameTaken = "username_taken";

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
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return routes;
    }

    // The validation filter has run: the request is normalized and every rule holds.
    public static async Task<Results<Accepted<RegisterResponse>, ProblemHttpResult>> Register(
        RegisterRequest? request,
        HttpRequest httpRequest,
        PasswordHashing hashing,
        Database database,
        OutboxSignal outbox,
        IOptions<ActivationOptions> activation,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var username = request.Username!;
        var email = request.Email!;
        DateOnly? birthday = RegisterRequestValidator.TryParseDate(request.Birthday, out var date) ? date : null;

        // Hash on every path, taken email included, so timing does not tell which path ran.
        var passwordHash = await hashing.HashAsync(request.Password!, cancellationToken);
        var now = time.GetUtcNow();
        var language = Languages.FromRequest(httpRequest);

        var outcome = await database.WriteAsync(async (connection, transaction) =>
        {
            if (await UserStore.UsernameExistsAsync(connection, transaction, username))
            {
                return Outcome.UsernameTaken;
            }

            var existing = await UserStore.FindByEmailAsync(connection, transaction, email);
            if (existing is not null)
            {
                return await MailExistingOwnerAsync(connection, transaction, existing, activation.Value.ResendCooldown, now);
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
            await UserStore.InsertAsync(connection, transaction, user);
            var outboxId = await OutboxStore.AddAsync(
                connection, transaction, new NewOutboxMessage(AccountEmailKinds.Activation, [email], user.Id, language), now);
            return Outcome.Queued(outboxId);
        }, cancellationToken).ConfigureAwait(false);

        if (outcome.IsUsernameTaken)
        {
            return Problems.Problem(StatusCodes.Status409Conflict, UsernameTaken, "The username is taken.",
                $"Another account already uses the username '{username}'.");
        }

        if (outcome.OutboxId is { } id)
        {
            outbox.Notify(id);
        }

        return TypedResults.Accepted((string?)null, new RegisterResponse(username, email, AccountStatus.PendingActivation));
    }

    /// <summary>
    /// Someone registered with an address that has an account: its owner gets a fresh activation
    /// link (still pending) or a notice (active), at most once per cooldown.
    /// </summary>
    private static async Task<Outcome> MailExistingOwnerAsync(
        System.Data.IDbConnection connection, System.Data.IDbTransaction transaction, User owner, TimeSpan cooldown, DateTimeOffset now)
    {
        var last = await OutboxStore.LastCreatedForUserAsync(connection, transaction, owner.Id, AccountEmailKinds.ActivationCooldownKinds);
        if (last is { } sentAt && now - sentAt < cooldown)
        {
            return Outcome.Nothing;
        }

        var kind = owner.Status == AccountStatus.Active ? AccountEmailKinds.AccountExists : AccountEmailKinds.Activation;
        var outboxId = await OutboxStore.AddAsync(
            connection, transaction, new NewOutboxMessage(kind, [owner.Email], owner.Id, owner.Language), now);
        return Outcome.Queued(outboxId);
    }

    private sealed record Outcome(bool IsUsernameTaken, long? OutboxId)
    {
        public static readonly Outcome UsernameTaken = new(true, null);
        public static readonly Outcome Nothing = new(false, null);

        public static Outcome Queued(long outboxId) => new(false, outboxId);
    }
}
