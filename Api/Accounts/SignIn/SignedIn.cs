using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Accounts.Api.Accounts;

/// <summary>The account a bearer token stands for, while it still does.</summary>
public static class SignedIn
{
    /// <summary>
    /// The token's account, or null when it is gone or its security stamp changed since the token
    /// was issued (a password reset or change ends every earlier token).
    /// </summary>
    public static async Task<User?> SignedInUserAsync(this DbSession session, ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
        && await session.Users.FindAsync(id) is { } user
        && user.SecurityStamp == principal.FindFirstValue(LoginApi.SecurityStampClaim)
            ? user
            : null;

    /// <summary>The 401 for a token that no longer stands for an account.</summary>
    public static ProblemHttpResult Unauthorized() =>
        Problems.Problem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized, "The token is no longer valid. Sign in again.");
}
