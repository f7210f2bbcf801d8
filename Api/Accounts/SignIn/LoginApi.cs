using System.ComponentModel.DataAnnotations;
using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc;

namespace Accounts.Api.Accounts;

/// <summary>A session's tokens: the access token for <c>Authorization: Bearer …</c> and the refresh token that gets the next one.</summary>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="AccessToken">The access token; opaque to clients.</param>
/// <param name="ExpiresIn">Seconds until the access token stops working.</param>
/// <param name="RefreshToken">For <c>POST /token/refresh</c> once the access token has expired: it works once, then a new one comes with the new access token.</param>
public sealed record LoginResponse([property: AllowedValues("Bearer")] string TokenType, string AccessToken, long ExpiresIn, string RefreshToken)
{
    public static LoginResponse From(SessionTokens tokens) =>
        new("Bearer", tokens.AccessToken, (long)tokens.AccessTokenLifetime.TotalSeconds, tokens.RefreshToken);
}

/// <summary><c>POST /login</c>.</summary>
public static class LoginApi
{
    /// <summary>The claim that carries the account's security stamp (<see cref="User.SecurityStamp"/>).</summary>
    public const string SecurityStampClaim = "stamp";

    public static IEndpointRouteBuilder MapLogin(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/login", Login)
            .WithName("Login")
            .WithTags("Accounts")
            .WithSummary("Sign in with a username or email and start a session")
            .WithDescription("""
                Starts a session: an access token (`Login:AccessTokenLifetime`) and a refresh token (`Login:RefreshTokenLifetime`)
                for `POST /token/refresh`. With `useCookies=true` the answer is 204 and both are in HttpOnly, SameSite=Strict
                cookies instead (for an SPA on the API's own site); requests signed in by the cookie that change state must then
                send `X-CSRF: 1`. An unknown login and a wrong password get the same 401, in about the same time.
                """)
            .Accepts<LoginRequest>("application/json")
            .WithValidation<LoginRequest>()
            .RequireRateLimiting(RateLimits.Login)
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.InvalidCredentials)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.AccountNotActivated)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, AccountErrors.TooManyAttempts, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: the login is normalized, and login and password are present.
    /// <param name="useCookies">True: answer 204 and keep the session in HttpOnly cookies instead of returning the tokens.</param>
    public static async Task<Results<Ok<LoginResponse>, NoContent, ProblemHttpResult>> Login(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] LoginRequest request,
        [FromQuery] bool? useCookies,
        HttpContext context,
        HttpResponse response,
        [AsParameters] AccountServices services,
        LoginThrottle throttle,
        Sessions sessions,
        CancellationToken cancellationToken)
    {
        var (login, hashing) = (request.Login, services.Hashing);
        var loginKey = Normalization.Key(login);
        if (await throttle.LockedForAsync(loginKey, cancellationToken) is { } locked && locked > TimeSpan.Zero)
        {
            return LoginThrottle.TooManyAttempts(response, locked);
        }

        var user = await services.Database.ReadAsync(session => session.Users.FindByLoginAsync(login), cancellationToken);

        // No account: check against a hash all the same, so the answer takes as long as a wrong password.
        var verification = await hashing.VerifyAsync(
            user?.PasswordHash ?? await hashing.DummyHashAsync(), request.Password, cancellationToken);
        if (user is null || verification == PasswordVerificationResult.Failed)
        {
            await throttle.RecordFailureAsync(loginKey, cancellationToken);
            return InvalidCredentials();
        }

        if (user.Status != AccountStatus.Active)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, AccountErrors.AccountNotActivated,
                "The account is not activated yet.", "Follow the link in the activation mail, or ask for a new one.");
        }

        await throttle.ClearAsync(loginKey, cancellationToken);
        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // Stored at an older, lower cost: store it again at today's.
            var upgraded = await hashing.HashAsync(request.Password, cancellationToken);
            await services.Database.WriteAsync(
                session => session.Users.SetPasswordHashAsync(user.Id, upgraded, newSecurityStamp: null),
                cancellationToken);
        }

        // Tokens are credentials: no cache may keep the answer (RFC 6749, section 5.1).
        response.Headers.CacheControl = "no-store";
        if (await sessions.StartAsync(user, cancellationToken) is not { } tokens)
        {
            // The password was changed (or the account erased) between the check above and now.
            return InvalidCredentials();
        }

        if (useCookies == true)
        {
            SessionCookies.Append(context, tokens);
            return TypedResults.NoContent();
        }

        return TypedResults.Ok(LoginResponse.From(tokens));
    }

    private static ProblemHttpResult InvalidCredentials() =>
        Problems.Problem(StatusCodes.Status401Unauthorized, AccountErrors.InvalidCredentials, "The login or the password is wrong.");
}
