using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Accounts.Api.Accounts;

/// <summary>
/// Cookie mode (<c>POST /login?useCookies=true</c>), for an SPA on the API's own site: the access
/// token in <see cref="AccessCookie"/> (every path) and the refresh token in
/// <see cref="RefreshCookie"/> (sent only to <c>/token/refresh</c>), both HttpOnly, so no script
/// can read them, <c>SameSite=Strict</c>, so no other site's page makes the browser send them, and
/// <c>Secure</c> outside Development. A state-changing request signed in by the cookie must also
/// carry <c>X-CSRF: 1</c>: a cross-site form cannot set a header, and a cross-origin script cannot
/// either without a CORS preflight that only the configured origins pass.
/// </summary>
public static class SessionCookies
{
    public const string AccessCookie = "accounts_session";
    public const string RefreshCookie = "accounts_refresh";
    public const string CsrfHeader = "X-CSRF";

    /// <summary>The refresh endpoint's path, the only one the refresh cookie goes to.</summary>
    public const string RefreshPath = "/token/refresh";

    private const string SignedInByCookieItem = "accounts.signed-in-by-cookie";

    /// <summary>Sets both cookies from a sign-in or a refresh.</summary>
    public static void Append(HttpContext context, SessionTokens tokens)
    {
        context.Response.Cookies.Append(AccessCookie, tokens.AccessToken, Options(context, "/", tokens.AccessTokenLifetime));
        context.Response.Cookies.Append(RefreshCookie, tokens.RefreshToken, Options(context, RefreshPath, tokens.RefreshTokenLifetime));
    }

    /// <summary>Tells the browser to drop both cookies (a logout, a refused refresh).</summary>
    public static void Clear(HttpContext context)
    {
        context.Response.Cookies.Delete(AccessCookie, Options(context, "/", maxAge: null));
        context.Response.Cookies.Delete(RefreshCookie, Options(context, RefreshPath, maxAge: null));
    }

    /// <summary>The refresh cookie, when the browser sent it.</summary>
    public static string? RefreshTokenOf(HttpRequest request) =>
        request.Cookies.TryGetValue(RefreshCookie, out var token) && !string.IsNullOrEmpty(token) ? token : null;

    /// <summary>True when the request carries <c>X-CSRF: 1</c>.</summary>
    public static bool HasCsrfHeader(HttpRequest request) => request.Headers[CsrfHeader] == "1";

    /// <summary>The 403 for a cookie-signed request without <c>X-CSRF: 1</c>.</summary>
    public static ProblemHttpResult CsrfHeaderMissing() =>
        Problems.Problem(StatusCodes.Status403Forbidden, AccountErrors.CsrfHeaderRequired,
            "A request signed in by the session cookie must carry the X-CSRF: 1 header.",
            "Send X-CSRF: 1 with every POST made with the session cookie; a page of another site cannot.");

    /// <summary>
    /// The bearer scheme reads the access cookie when the request has no <c>Authorization</c>
    /// header; a bearer token sent explicitly always wins, and then the CSRF rule does not apply.
    /// </summary>
    public static void ReadAccessCookie(BearerTokenOptions options) =>
        options.Events.OnMessageReceived = context =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization")
                && context.Request.Cookies.TryGetValue(AccessCookie, out var token)
                && !string.IsNullOrEmpty(token))
            {
                context.Token = token;
                context.HttpContext.Items[SignedInByCookieItem] = true;
            }

            return Task.CompletedTask;
        };

    /// <summary>True when the request was signed in by the access cookie (not by an <c>Authorization</c> header).</summary>
    public static bool SignedInByCookie(HttpContext context) =>
        context.Items.ContainsKey(SignedInByCookieItem) && context.User.Identity?.IsAuthenticated == true;

    /// <summary>
    /// After authentication: refuses a state-changing request to an endpoint that needs a signed-in
    /// account, signed in by the cookie, without <c>X-CSRF: 1</c>. (Endpoints open to anyone do not
    /// act on the cookie's account; <c>/token/refresh</c> checks the header itself when it reads the refresh cookie.)
    /// </summary>
    public static WebApplication UseSessionCookieCsrfCheck(this WebApplication app)
    {
        app.Use((context, next) =>
            SignedInByCookie(context)
            && ChangesState(context.Request)
            && context.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not null
            && !HasCsrfHeader(context.Request)
                ? CsrfHeaderMissing().ExecuteAsync(context)
                : next(context));
        return app;
    }

    private static bool ChangesState(HttpRequest request) =>
        !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method));

    private static CookieOptions Options(HttpContext context, string path, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = !context.RequestServices.GetRequiredService<IHostEnvironment>().IsDevelopment(),
        Path = context.Request.PathBase.Add(new PathString(path)).Value ?? path,
        MaxAge = maxAge,
        IsEssential = true,
    };
}
