using Microsoft.Net.Http.Headers;

namespace Accounts.Api.Accounts;

/// <summary>The languages mails and pages are written in, chosen from <c>Accept-Language</c>.</summary>
public static class Languages
{
    public const string English = "en";
    public const string SimplifiedChinese = "zh-CN";
    public const string Default = English;

    /// <summary>The supported language the request prefers most, else English.</summary>
    public static string FromRequest(HttpRequest request)
    {
        var preferences = request.GetTypedHeaders().AcceptLanguage;
        foreach (var preference in preferences
            .Where(p => p.Quality is null or > 0)
            .OrderByDescending(p => p.Quality ?? 1))
        {
            if (Match(preference) is { } language)
            {
                return language;
            }
        }

        return Default;
    }

    private static string? Match(StringWithQualityHeaderValue preference)
    {
        var tag = preference.Value.Value ?? "";
        if (tag.Equals("zh", StringComparison.OrdinalIgnoreCase)
            || tag.StartsWith("zh-", StringComparison.OrdinalIgnoreCase) && !IsTraditional(tag))
        {
            return SimplifiedChinese;
        }

        return tag.Equals("en", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("en-", StringComparison.OrdinalIgnoreCase)
            ? English
            : null;
    }

    private static bool IsTraditional(string tag) =>
        tag.Contains("Hant", StringComparison.OrdinalIgnoreCase)
        || tag.EndsWith("-TW", StringComparison.OrdinalIgnoreCase)
        || tag.EndsWith("-HK", StringComparison.OrdinalIgnoreCase)
        || tag.EndsWith("-MO", StringComparison.OrdinalIgnoreCase);
}
