using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace Accounts.Api.Accounts;

/// <summary>The account a bearer token stands for, while it still does.</summary>
public static class SignedIn
{
    /// <summary>
    /// The token's account, or null when it is gone, its session ended (a logout, a new password,
    /// a refresh token reused) or its security stamp changed since the token was issued.
    /// </summary>
    public static async Task<User?> SignedInUserAsync(this DbSession session, ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
        && Sessions.SessionOf(principal) is { } sessionId
        && await session.Users.FindInSessionAsync(id, sessionId) is { } user
        && user.SecurityStamp == principal.FindFirstValue(LoginApi.SecurityStampClaim)
            ? user
            : null;

    /// <summary>The 401 for a token that no longer stands for an account.</summary>
    public static ProblemHttpResult Unauthorized() =>
        Problems.Problem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized, "The token is no longer valid. Sign in again.");

    /// <summary>
    /// For a signed-in request that changes what signs the account in: the token's account when
    /// <paramref name="password"/> is its password; else the refusal (401 for a token that no longer
    /// stands, 429 while the account's sign-in is locked, 403 <c>wrong_password</c>, which counts as
    /// a failed sign-in: guessing the password here is guessing a sign-in).
    /// </summary>
    public static async Task<(User? User, ProblemHttpResult? Refusal)> ReauthenticateAsync(
        ClaimsPrincipal principal,
        string password,
        string wrongPasswordTitle,
        HttpResponse response,
        AccountServices services,
        LoginThrottle throttle,
        CancellationToken cancellationToken)
    {
        if (await services.Database.ReadAsync(session => session.SignedInUserAsync(principal), cancellationToken) is not { } user)
        {
            return (null, Unauthorized());
        }

        var loginKey = Normalization.Key(user.Username);
        if (await throttle.LockedForAsync(loginKey, cancellationToken) is { } locked && locked > TimeSpan.Zero)
        {
            return (null, LoginThrottle.TooManyAttempts(response, locked));
        }

        if (await services.Hashing.VerifyAsync(user.PasswordHash, password, cancellationToken) == PasswordVerificationResult.Failed)
        {
            await throttle.RecordFailureAsync(loginKey, cancellationToken);
            return (null, Problems.Problem(StatusCodes.Status403Forbidden, AccountErrors.WrongPassword, wrongPasswordTitle));
        }

        return (user, null);
    }
}
