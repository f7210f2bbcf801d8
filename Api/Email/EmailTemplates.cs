using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Accounts.Api.Email;

/// <summary>
/// Renders a mail from embedded templates: <c>{name}.{language}.txt</c>, whose first line is
/// <c>Subject: …</c>, and <c>{name}.{language}.html</c>, placed in <c>_layout.html</c>. A language
/// without its own template falls back to English. <c>{{key}}</c> placeholders take the given
/// values, HTML-encoded in the HTML part; <c>product</c> and <c>support</c> come from
/// <c>Email:ProductName</c> and <c>Email:SupportAddress</c>.
/// </summary>
public sealed partial class EmailTemplates(Assembly assembly, string folder, string productName, string? supportAddress)
{
    public const string FallbackLanguage = "en";

    private readonly ConcurrentDictionary<string, string?> _cache = new();

    public EmailContent Render(string name, string language, IReadOnlyDictionary<string, string> values, Uri? actionUrl = null)
    {
        if (Load($"{name}.{language}.txt") is null)
        {
            language = FallbackLanguage;
        }

        var all = new Dictionary<string, string>(values)
        {
            ["product"] = productName,
            ["support"] = supportAddress ?? "",
            ["lang"] = language,
        };

        var text = Load($"{name}.{language}.txt") ?? throw new InvalidOperationException($"No template {folder}{name}.{language}.txt.");
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var firstLine = (newline < 0 ? text : text[..newline]).TrimEnd('\r');
        if (!firstLine.StartsWith("Subject: ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Template {name}.{language}.txt must start with a 'Subject: ' line.");
        }

        var subject = Fill(firstLine["Subject: ".Length..], all, html: false);
        all["subject"] = subject;
        var signature = supportAddress is null ? $"\n-- \n{productName}\n" : $"\n-- \n{productName} · {supportAddress}\n";
        var textBody = Fill(text[(newline + 1)..].TrimStart('\r', '\n'), all, html: false) + signature;

        string? htmlBody = null;
        if (Load($"{name}.{language}.html") is { } fragment)
        {
            var layout = Load("_layout.html") ?? "{{content}}";
            var content = Fill(fragment, all, html: true);
            var footer = WebUtility.HtmlEncode(supportAddress is null ? productName : $"{productName} · {supportAddress}");
            htmlBody = Fill(layout, all, html: true, raw: new Dictionary<string, string> { ["content"] = content, ["footer"] = footer });
        }

        return new EmailContent(subject, textBody, htmlBody, actionUrl);
    }

    private string? Load(string file) => _cache.GetOrAdd(file, f =>
    {
        using var stream = assembly.GetManifestResourceStream(folder + f);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>Replaces every <c>{{key}}</c>; an unknown key is a template bug and throws.</summary>
    private static string Fill(string template, Dictionary<string, string> values, bool html, Dictionary<string, string>? raw = null) =>
        Placeholder().Replace(template, match =>
        {
            var key = match.Groups[1].Value;
            if (raw is not null && raw.TryGetValue(key, out var verbatim))
            {
                return verbatim;
            }

            return values.TryGetValue(key, out var value)
                ? html ? WebUtility.HtmlEncode(value) : value
                : throw new InvalidOperationException($"The template uses {{{{{key}}}}}, which has no value.");
        });

    [GeneratedRegex(@"\{\{(\w+)\}\}")]
    private static partial Regex Placeholder();
}
