using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Accounts.Api.Accounts;

/// <summary>The signed-in account.</summary>
public sealed record MeResponse(
    Guid Id,
    string Username,
    string Email,
    DateOnly? Birthday,
    [property: AllowedValues(AccountStatus.PendingActivation, AccountStatus.Active)] string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ActivatedAt);

/// <summary><c>GET /me</c>: the signed-in account's own profile.</summary>
public static class ProfileApi
{
    public static IEndpointRouteBuilder MapProfile(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/me", Me)
            .WithName("Me")
            .WithTags("Accounts")
            .WithSummary("The signed-in account's profile")
            .WithDescription("Needs the bearer token from POST /login; a token from before a password reset no longer works.")
            .RequireAuthorization()
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    public static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> Me(ClaimsPrincipal principal, Database database, CancellationToken cancellationToken) =>
        await database.ReadAsync(session => session.SignedInUserAsync(principal), cancellationToken) is { } user
            ? TypedResults.Ok(new MeResponse(user.Id, user.Username, user.Email, user.Birthday, user.Status, user.CreatedAt, user.ActivatedAt))
            : SignedIn.Unauthorized();
}
