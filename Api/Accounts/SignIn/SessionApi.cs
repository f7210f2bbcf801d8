using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Accounts.Api.Accounts;

/// <summary>A refresh token, as <c>POST /login</c> or the last <c>POST /token/refresh</c> returned it.</summary>
public sealed record RefreshRequest
{
    /// <example>q3Lk0v2mS8d1Yx7hR9bTz4wN6pE5cJ0aUuGfKsHiMlo</example>
    public string? RefreshToken { get; init; }
}

/// <summary><c>POST /token/refresh</c>, <c>POST /logout</c>, <c>POST /logout/all</c>.</summary>
public static class SessionApi
{
    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(SessionCookies.RefreshPath, Refresh)
            .WithName("RefreshToken")
            .WithTags("Sessions")
            .WithSummary("Trade a refresh token for a new access token and refresh token")
            .WithDescription($"""
                The refresh token sent is retired: keep the new one. A retired token presented again more than
                {Sessions.ReuseGrace.TotalSeconds:F0} seconds after it was used means a copy is in other hands, and the whole session is
                revoked. In cookie mode send no body (the refresh cookie goes along) and `X-CSRF: 1`; the answer is then 204
                with new cookies.
                """)
            .Accepts<RefreshRequest>("application/json")
            .WithProblem(StatusCodes.Status400BadRequest)
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.InvalidRefreshToken)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        routes.MapPost("/logout", Logout)
            .WithName("Logout")
            .WithTags("Sessions")
            .WithSummary("End this session")
            .WithDescription("Its access token stops working at once and its refresh token is refused. A `refreshToken` in the body ends that token's session too (when it is one of the account's). In cookie mode both cookies are cleared.")
            .Accepts<RefreshRequest>("application/json")
            .RequireAuthorization()
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        routes.MapPost("/logout/all", LogoutEverywhere)
            .WithName("LogoutEverywhere")
            .WithTags("Sessions")
            .WithSummary("End every session of the account")
            .WithDescription("Every access token of the account stops working at once, on every device, and every refresh token is refused.")
            .RequireAuthorization()
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    public static async Task<Results<Ok<LoginResponse>, NoContent, ProblemHttpResult, ValidationProblem>> Refresh(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RefreshRequest? request,
        HttpContext context,
        Sessions sessions,
        CancellationToken cancellationToken)
    {
        var token = request?.RefreshToken;
        var fromCookie = false;
        if (string.IsNullOrEmpty(token))
        {
            token = SessionCookies.RefreshTokenOf(context.Request);
            if (token is null)
            {
                return Problems.Validation("refreshToken", "RefreshToken is required: the refresh token from POST /login or the last refresh (or, in cookie mode, the refresh cookie).");
            }

            fromCookie = true;
            if (!SessionCookies.HasCsrfHeader(context.Request))
            {
                return SessionCookies.CsrfHeaderMissing();
            }
        }

        context.Response.Headers.CacheControl = "no-store";
        var (tokens, refusal) = await sessions.RefreshAsync(token, cancellationToken);
        if (tokens is null)
        {
            // A raced refresh's twin has set the new cookies already: clearing them here could undo that.
            if (fromCookie && refusal != RefreshRefusal.Raced)
            {
                SessionCookies.Clear(context);
            }

            return Problems.Problem(StatusCodes.Status401Unauthorized, AccountErrors.InvalidRefreshToken,
                "The refresh token is not valid.", "It is unknown, expired, used already, or its session ended. Sign in again.");
        }

        if (fromCookie)
        {
            SessionCookies.Append(context, tokens);
            return TypedResults.NoContent();
        }

        return TypedResults.Ok(LoginResponse.From(tokens));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Logout(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RefreshRequest? request,
        ClaimsPrincipal principal,
        HttpContext context,
        Database database,
        CancellationToken cancellationToken)
    {
        var other = AccountTokens.TryHash(request?.RefreshToken, out var hash) ? hash : null;
        var ended = await database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
        {
            if (await session.SignedInUserAsync(principal) is not { } user)
            {
                return false;
            }

            await session.Sessions.EndAsync(Sessions.SessionOf(principal)!.Value, user.Id);
            if (other is not null && await session.Sessions.SessionOfTokenAsync(other) is { } otherSession)
            {
                await session.Sessions.EndAsync(otherSession, user.Id);
            }

            return true;
        }, cancellationToken);
        if (SessionCookies.SignedInByCookie(context))
        {
            SessionCookies.Clear(context);
        }

        return ended ? TypedResults.NoContent() : SignedIn.Unauthorized();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> LogoutEverywhere(
        ClaimsPrincipal principal,
        HttpContext context,
        Database database,
        CancellationToken cancellationToken)
    {
        var ended = await database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
            await session.SignedInUserAsync(principal) is { } user && await session.Sessions.EndAllAsync(user.Id) > 0,
            cancellationToken);
        if (SessionCookies.SignedInByCookie(context))
        {
            SessionCookies.Clear(context);
        }

        return ended ? TypedResults.NoContent() : SignedIn.Unauthorized();
    }
}
