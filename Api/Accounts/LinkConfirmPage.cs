using System.Net;
using Accounts.Api.Infrastructure;

namespace Accounts.Api.Accounts;

/// <summary>
/// What a mailed link's GET shows a browser or a mail scanner instead of acting: one button, a
/// plain form (no script) that posts the token back, so only a person's press changes anything.
/// </summary>
public static class LinkConfirmPage
{
    /// <summary>True when the request's Accept names JSON (<c>application/json</c> or a <c>+json</c> type) with a quality above 0: an API client, which the link acts for at once.</summary>
    public static bool NamesJson(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.Quality is not 0
            && (a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || a.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The page: a heading, a sentence and the button whose form posts <paramref name="token"/> to <paramref name="action"/>.</summary>
    public static HtmlPage Render(string language, string title, string message, string button, string token, string action) =>
        new(StatusCodes.Status200OK, language, title, $"""
            <h1>{WebUtility.HtmlEncode(title)}</h1>
            <p>{WebUtility.HtmlEncode(message)}</p>
            <form method="post" action="{WebUtility.HtmlEncode(action)}">
            <input type="hidden" name="token" value="{WebUtility.HtmlEncode(token)}">
            <button type="submit">{WebUtility.HtmlEncode(button)}</button>
            </form>
            """);

    /// <summary>The <c>token</c> field of a form post, or null when the body is not a form.</summary>
    public static async Task<string?> ReadTokenAsync(HttpRequest request)
    {
        try
        {
            return (await request.ReadFormAsync(request.HttpContext.RequestAborted))["token"].ToString();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
