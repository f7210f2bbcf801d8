using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /password/forgot</c>, <c>POST /password/reset</c> and the reset form at <c>GET /password/reset</c>.</summary>
public static class PasswordResetApi
{
    /// <summary>The mailed reset link is built from this name when <c>PasswordReset:LinkUrl</c> is not set.</summary>
    public const string FormEndpointName = "PasswordResetForm";

    public static IEndpointRouteBuilder MapPasswordReset(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/password").WithTags("Accounts");

        group.MapPost("/forgot", Forgot)
            .WithName("ForgotPassword")
            .WithSummary("Mail a password reset link")
            .WithDescription("Always 202, whether or not the address has an account; at most one mail per address per PasswordReset:Cooldown.")
            .Accepts<EmailRequest>("application/json")
            .WithValidation<EmailRequest>()
            .RequireRateLimiting(RateLimits.ForgotPassword)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        group.MapPost("/reset", Reset)
            .WithName("ResetPassword")
            .WithSummary("Set a new password with the token from the reset link, or the address and the code from the mail")
            .WithDescription(
                "204 on success; outstanding reset links and every earlier bearer token stop working. A wrong code, an unknown "
                + "address and a code used up by Activation:MaxCodeAttempts tries all get the same 400 code_invalid.")
            .Accepts<ResetPasswordRequest>("application/json")
            .WithValidation<ResetPasswordRequest>()
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, AccountErrors.CodeInvalid, ProblemCodes.InvalidJson, ProblemCodes.BadRequest)
            .RequireRateLimiting(RateLimits.Codes)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound)
            .WithProblem(StatusCodes.Status410Gone, AccountErrors.TokenExpired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        group.MapGet("/reset", PasswordResetForm.Render)
            .WithName(FormEndpointName)
            .WithSummary("The reset form a mailed link opens")
            .WithDescription("A small HTML page that posts the new password to POST /password/reset. Opening it changes nothing.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        return routes;
    }

    // The validation filter has run: the address is well formed.
    public static async Task<Accepted<AcceptedResponse>> Forgot(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] EmailRequest request,
        [AsParameters] AccountServices services,
        IOptions<PasswordResetOptions> options,
        CancellationToken cancellationToken)
    {
        await AccountMail.QueueForAddressAsync(
            services,
            request.Email,
            _ => true,
            PasswordResetEmailComposer.Kind,
            [PasswordResetEmailComposer.Kind],
            options.Value.Cooldown,
            cancellationToken);
        return TypedResults.Accepted((string?)null, AcceptedResponse.Instance);
    }

    // The validation filter has run: the token (or the address and the code) is well formed and the two passwords match.
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Reset(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ResetPasswordRequest request,
        [AsParameters] AccountServices services,
        PasswordStrength strength,
        IOptions<ActivationOptions> activation,
        CancellationToken cancellationToken)
    {
        byte[] hash;
        if (request.ByCode)
        {
            if (await AccountCodeCheck.FindLinkAsync(
                services.Database, TokenPurpose.PasswordReset, request.Email!, request.Code!, activation.Value.MaxCodeAttempts, services.Time.GetUtcNow(), cancellationToken) is not { } found)
            {
                return AccountCodeCheck.Invalid();
            }

            hash = found;
        }
        else
        {
            AccountTokens.TryHash(request.Token, out hash);
        }

        var (state, user) = await services.Database.ReadAsync(async session =>
            await session.Tokens.FindAsync(hash, TokenPurpose.PasswordReset) is { } found
                ? (found, await session.Users.FindAsync(found.UserId))
                : (null, null),
            cancellationToken);
        var now = services.Time.GetUtcNow();
        if (state is null || user is null)
        {
            return NotFound();
        }

        if (state.ConsumedAt is not null || state.ExpiresAt <= now)
        {
            return Gone();
        }

        if (!strength.IsStrongEnough(request.Password, user.Username, user.Email))
        {
            return Problems.Validation("password", PasswordRules.TooWeakMessage);
        }

        var passwordHash = await services.Hashing.HashAsync(request.Password, cancellationToken);
        var queued = 0;
        var changed = await services.Database.WriteAsync(async session =>
        {
            queued = 0;
            if (!await session.Tokens.ConsumeAsync(hash, now))
            {
                return false; // used or expired since we looked
            }

            await session.Users.SetPasswordHashAsync(user.Id, passwordHash, User.NewSecurityStamp());
            await session.Tokens.EndAllAsync(user.Id, TokenPurpose.PasswordReset, now);
            await session.Sessions.EndAllAsync(user.Id);
            queued = await services.Events.QueueAsync(session, AccountEvents.PasswordChanged, user, now);
            return true;
        }, cancellationToken);

        services.Events.Announce(queued);
        return changed ? TypedResults.NoContent() : Gone();

        static ProblemHttpResult NotFound() => Problems.Problem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound,
            "The reset link is not valid.", "Check that the whole link was opened, or ask for a new one.");

        static ProblemHttpResult Gone() => Problems.Problem(StatusCodes.Status410Gone, AccountErrors.TokenExpired,
            "The reset link has expired or was already used.", "Ask for a new reset link.");
    }
}
