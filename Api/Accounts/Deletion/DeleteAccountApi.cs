using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /me/delete</c>: the signed-in account erases itself.</summary>
public static class DeleteAccountApi
{
    public static IEndpointRouteBuilder MapAccountDeletion(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/me/delete", DeleteAccount)
            .WithName("DeleteAccount")
            .WithTags("Accounts")
            .WithSummary("Erase the signed-in account")
            .WithDescription(
                "Checks the password; then, in one transaction, erases the account, its links and codes, its mails (sent or "
                + "not) and the failed sign-ins and code tries under its username and address. 204: every bearer token of the "
                + "account stops working, and the username and the address can be registered again at once. On SQLite the "
                + "erased bytes are overwritten on disk (secure_delete). Wrong passwords count as failed sign-ins of the account.")
            .RequireAuthorization()
            .Accepts<DeleteAccountRequest>("application/json")
            .WithValidation<DeleteAccountRequest>()
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.WrongPassword, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, AccountErrors.TooManyAttempts)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: a password was sent.
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAccount(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] DeleteAccountRequest request,
        ClaimsPrincipal principal,
        HttpResponse response,
        [AsParameters] AccountServices services,
        LoginThrottle throttle,
        CancellationToken cancellationToken)
    {
        var (user, refusal) = await SignedIn.ReauthenticateAsync(
            principal, request.Password, "The password is wrong.", response, services, throttle, cancellationToken);
        if (user is null)
        {
            return refusal!;
        }

        // Only over the stamp this token carries: a password changed or reset meanwhile ends this token first.
        var queued = 0;
        var erased = await services.Database.WriteAsync(async session =>
        {
            queued = 0;
            if (!await session.Users.EraseAsync(user))
            {
                return false;
            }

            // The one trace the account leaves: its deletion, for the webhooks, until delivered.
            queued = await services.Events.QueueAsync(session, AccountEvents.Deleted, user, services.Time.GetUtcNow());
            return true;
        }, cancellationToken);
        if (!erased)
        {
            return SignedIn.Unauthorized();
        }

        services.Events.Announce(queued);
        await services.Database.EraseFreedSpaceAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
