using System.Net;
using System.Security.Cryptography;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// A small self-contained HTML page: no external resources, a strict Content-Security-Policy
/// (an optional inline script runs only with this response's nonce), no framing, and
/// <c>Referrer-Policy: no-referrer</c> so a token in the URL never leaks to another site.
/// </summary>
public sealed class HtmlPage(int statusCode, string language, string title, string bodyHtml, string? script = null) : IResult
{
    /// <summary>A page of a heading and one paragraph; both are HTML-encoded.</summary>
    public static HtmlPage Message(int statusCode, string language, string title, string message) =>
        new(statusCode, language, title, $"<h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(message)}</p>");

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
        response.Headers["Referrer-Policy"] = "no-referrer";
        var scriptTag = script is null ? "" : $"<script nonce=\"{nonce}\">{script}</script>";
        return response.WriteAsync($$"""
            <!DOCTYPE html>
            <html lang="{{WebUtility.HtmlEncode(language)}}">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{WebUtility.HtmlEncode(title)}}</title>
            <style>body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.5rem}label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b42318;font-size:.9rem}</style></head>
            <body><main>{{bodyHtml}}</main>{{scriptTag}}</body>
            </html>
            """);
    }
}
