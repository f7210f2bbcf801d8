using System.Security.Claims;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /me/password</c>: the signed-in account changes its password.</summary>
public static class ChangePasswordApi
{
    public static IEndpointRouteBuilder MapPasswordChange(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/me/password", ChangePassword)
            .WithName("ChangePassword")
            .WithTags("Accounts")
            .WithSummary("Change the signed-in account's password")
            .WithDescription(
                "Checks the current password and the new one's strength. 204 on success: every earlier bearer token, this "
                + "one included, stops working (sign in again with the new password), outstanding reset links end, and a "
                + "notice is mailed to the account. Wrong current passwords count as failed sign-ins of the account.")
            .RequireAuthorization()
            .Accepts<ChangePasswordRequest>("application/json")
            .WithValidation<ChangePasswordRequest>()
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.WrongPassword, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, AccountErrors.TooManyAttempts)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: the current password is present and the new ones match.
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ChangePasswordRequest request,
        ClaimsPrincipal principal,
        HttpResponse response,
        [AsParameters] AccountServices services,
        PasswordStrength strength,
        LoginThrottle throttle,
        CancellationToken cancellationToken)
    {
        var (user, refusal) = await SignedIn.ReauthenticateAsync(
            principal, request.CurrentPassword, "The current password is wrong.", response, services, throttle, cancellationToken);
        if (user is null)
        {
            return refusal!;
        }

        if (!strength.IsStrongEnough(request.Password, user.Username, user.Email))
        {
            return Problems.Validation("password", PasswordRules.TooWeakMessage);
        }

        var passwordHash = await services.Hashing.HashAsync(request.Password, cancellationToken);
        var now = services.Time.GetUtcNow();
        var changed = await services.Database.WriteAsync(async session =>
        {
            // Only over the stamp this token carries: of two changes at once, or a reset in between, the first wins.
            if (!await session.Users.ChangePasswordAsync(user.Id, user.SecurityStamp, passwordHash, User.NewSecurityStamp()))
            {
                return false;
            }

            await session.Tokens.EndAllAsync(user.Id, TokenPurpose.PasswordReset, now);
            await session.Sessions.EndAllAsync(user.Id);
            await session.Outbox.AddAsync(new NewOutboxMessage(PasswordChangedEmailComposer.Kind, [user.Email], user.Id, user.Language), now);
            await services.Events.QueueAsync(session, AccountEvents.PasswordChanged, user, now);
            return true;
        }, cancellationToken);
        if (!changed)
        {
            return SignedIn.Unauthorized();
        }

        services.Outbox.Notify();
        await throttle.ClearAsync(Normalization.Key(user.Username), cancellationToken);
        return TypedResults.NoContent();
    }
}
