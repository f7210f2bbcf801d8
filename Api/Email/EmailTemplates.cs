using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;

namespace Accounts.Api.Email;

/// <summary>
/// The templates a feature mails with: embedded resources under <see cref="Folder"/> named
/// <c>{kind}.{language}.txt</c> and <c>{kind}.{language}.html</c>, the HTML placed in
/// <c>_layout.html</c>, and the placeholders each kind's templates may use.
/// </summary>
public sealed record EmailTemplateCatalog(
    Assembly Assembly,
    string Folder,
    IReadOnlyList<string> Languages,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Placeholders)
{
    public const string Layout = "_layout.html";

    /// <summary>The placeholders every template has, from <c>Email:ProductName</c>, <c>Email:SupportAddress</c> and the mail's language.</summary>
    public static readonly IReadOnlyList<string> Common = ["product", "support", "lang"];

    /// <summary>The layout's own placeholders besides <see cref="Common"/>: the rendered fragment, the footer line and the subject.</summary>
    public static readonly IReadOnlyList<string> LayoutPlaceholders = ["content", "footer", "subject"];

    /// <summary>Every file name a template folder may hold: the layout, then each kind's text and HTML in each language.</summary>
    public IEnumerable<string> FileNames() =>
        Placeholders.Keys.Order(StringComparer.Ordinal)
            .SelectMany(kind => Languages.SelectMany(language => new[] { $"{kind}.{language}.txt", $"{kind}.{language}.html" }))
            .Prepend(Layout);
}

/// <summary>
/// Renders a mail from a <see cref="EmailTemplateCatalog"/>: <c>{kind}.{language}.txt</c>, whose
/// first line is <c>Subject: …</c>, and <c>{kind}.{language}.html</c>, placed in <c>_layout.html</c>.
/// A language without its own template falls back to English. <c>{{key}}</c> placeholders take the
/// given values, HTML-encoded in the HTML part (there is no raw form: a template cannot opt out);
/// <c>product</c> and <c>support</c> come from <c>Email:ProductName</c> and <c>Email:SupportAddress</c>.
/// Files in <c>Email:TemplatesDirectory</c> replace the built-in ones of the same name; they are read
/// once, here, after <see cref="Check"/> has passed them at start.
/// </summary>
public sealed partial class EmailTemplates
{
    public const string FallbackLanguage = "en";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly EmailTemplateCatalog _catalog;
    private readonly string _productName;
    private readonly string? _supportAddress;
    private readonly Dictionary<string, string> _replacements;
    private readonly ConcurrentDictionary<string, string?> _cache = new();

    public EmailTemplates(EmailTemplateCatalog catalog, string productName, string? supportAddress, string? directory = null)
    {
        _catalog = catalog;
        _productName = productName;
        _supportAddress = supportAddress;
        _replacements = directory is null ? new Dictionary<string, string>() : ReadReplacements([catalog], directory, problems: null);
    }

    public EmailContent Render(string name, string language, IReadOnlyDictionary<string, string> values, Uri? actionUrl = null)
    {
        if (Load($"{name}.{language}.txt") is null)
        {
            language = FallbackLanguage;
        }

        var all = new Dictionary<string, string>(values)
        {
            ["product"] = _productName,
            ["support"] = _supportAddress ?? "",
            ["lang"] = language,
        };

        var text = Load($"{name}.{language}.txt") ?? throw new InvalidOperationException($"No template {name}.{language}.txt.");
        var (subjectLine, body) = SplitSubject(text) ?? throw new InvalidOperationException($"Template {name}.{language}.txt must start with a 'Subject: ' line.");
        var subject = Fill(subjectLine, all, html: false);
        all["subject"] = subject;
        var signature = _supportAddress is null ? $"\n-- \n{_productName}\n" : $"\n-- \n{_productName} · {_supportAddress}\n";
        var textBody = Fill(body, all, html: false) + signature;

        string? htmlBody = null;
        if (Load($"{name}.{language}.html") is { } fragment)
        {
            var layout = Load(EmailTemplateCatalog.Layout) ?? "{{content}}";
            var content = Fill(fragment, all, html: true);
            var footer = WebUtility.HtmlEncode(_supportAddress is null ? _productName : $"{_productName} · {_supportAddress}");
            htmlBody = Fill(layout, all, html: true, raw: new Dictionary<string, string> { ["content"] = content, ["footer"] = footer });
        }

        return new EmailContent(subject, textBody, htmlBody, actionUrl);
    }

    /// <summary>
    /// Every problem with the templates <paramref name="directory"/> would give the catalogs, as
    /// <c>file: problem</c> (empty when there is none); null checks the built-in templates alone.
    /// A file must have a built-in name; a kind and language replaced must have both its text and
    /// its HTML there; each file must be UTF-8, use only its kind's placeholders, and the text start
    /// with its <c>Subject: </c> line; the HTML must parse without an error in HTML's own rules (a
    /// fragment in a body, the layout as a document), and the layout must place <c>{{content}}</c>.
    /// </summary>
    public static IReadOnlyList<string> Check(IReadOnlyCollection<EmailTemplateCatalog> catalogs, string? directory)
    {
        var problems = new List<string>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        var replacements = directory is null ? new Dictionary<string, string>() : ReadReplacements(catalogs, directory, problems, present);
        foreach (var catalog in catalogs)
        {
            string? Effective(string file) => replacements.GetValueOrDefault(file) ?? ReadEmbedded(catalog, file);

            foreach (var kind in catalog.Placeholders.Keys.Order(StringComparer.Ordinal))
            {
                var allowed = catalog.Placeholders[kind].Concat(EmailTemplateCatalog.Common).ToHashSet(StringComparer.Ordinal);
                foreach (var language in catalog.Languages)
                {
                    var textFile = $"{kind}.{language}.txt";
                    var htmlFile = $"{kind}.{language}.html";
                    if (present.Contains(textFile) != present.Contains(htmlFile))
                    {
                        var (there, missing) = present.Contains(textFile) ? (textFile, htmlFile) : (htmlFile, textFile);
                        problems.Add($"{there}: {missing} is missing beside it; a mail's text and HTML parts are replaced together, so that they say the same.");
                    }

                    var text = Effective(textFile);
                    var html = Effective(htmlFile);
                    if (text is null || html is null)
                    {
                        // Only the fallback language must be complete: another one falls back to it.
                        if (language == FallbackLanguage || text is not null || html is not null)
                        {
                            problems.Add($"{(text is null ? textFile : htmlFile)}: missing.");
                        }

                        continue;
                    }

                    if (SplitSubject(text) is not var (subject, _))
                    {
                        problems.Add($"{textFile}: line 1 must be 'Subject: ' and the subject.");
                    }
                    else if (subject.Contains("{{subject}}", StringComparison.Ordinal))
                    {
                        problems.Add($"{textFile}: line 1: the subject cannot hold {{{{subject}}}}.");
                    }

                    CheckPlaceholders(textFile, text, [.. allowed, "subject"], problems);

                    CheckPlaceholders(htmlFile, html, [.. allowed, "subject"], problems);
                    CheckHtml(htmlFile, html, fragment: true, problems);
                }
            }

            if (Effective(EmailTemplateCatalog.Layout) is { } layout)
            {
                CheckPlaceholders(EmailTemplateCatalog.Layout, layout, [.. EmailTemplateCatalog.Common, .. EmailTemplateCatalog.LayoutPlaceholders], problems);
                CheckHtml(EmailTemplateCatalog.Layout, layout, fragment: false, problems);
                if (!layout.Contains("{{content}}", StringComparison.Ordinal))
                {
                    problems.Add($"{EmailTemplateCatalog.Layout}: has no {{{{content}}}}, where each mail's HTML goes.");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// The files of <paramref name="directory"/> that replace built-in templates, by name. With
    /// <paramref name="problems"/> null (the app, after <see cref="Check"/>), a problem throws.
    /// </summary>
    private static Dictionary<string, string> ReadReplacements(
        IReadOnlyCollection<EmailTemplateCatalog> catalogs, string directory, List<string>? problems, HashSet<string>? present = null)
    {
        void Problem(string problem)
        {
            if (problems is null)
            {
                throw new InvalidOperationException($"Email:TemplatesDirectory '{directory}': {problem}");
            }

            problems.Add(problem);
        }

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            Problem("the folder does not exist.");
            return files;
        }

        var known = catalogs.SelectMany(c => c.FileNames()).ToHashSet(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var file = Path.GetFileName(path);
            if (file.StartsWith('.'))
            {
                continue;
            }

            if (!known.Contains(file))
            {
                var near = known.Where(k => Distance(k, file) <= 2).Order(StringComparer.Ordinal).FirstOrDefault();
                Problem($"{file}: not a template name{(near is null ? "" : $" (did you mean {near}?)")}; a name is {EmailTemplateCatalog.Layout} or "
                    + $"kind.language.txt or .html, the kind one of {string.Join(", ", catalogs.SelectMany(c => c.Placeholders.Keys).Order(StringComparer.Ordinal))} "
                    + $"and the language one of {string.Join(", ", catalogs.SelectMany(c => c.Languages).Distinct())}.");
                continue;
            }

            present?.Add(file);
            try
            {
                files[file] = File.ReadAllText(path, StrictUtf8);
            }
            catch (DecoderFallbackException)
            {
                Problem($"{file}: not UTF-8.");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Problem($"{file}: cannot be read: {ex.Message}");
            }
        }

        return files;
    }

    private static void CheckPlaceholders(string file, string template, IReadOnlyCollection<string> allowed, List<string> problems)
    {
        foreach (Match match in Placeholder().Matches(template))
        {
            if (!allowed.Contains(match.Groups[1].Value))
            {
                problems.Add($"{file}: line {LineOf(template, match.Index)}: {match.Value} is not a placeholder of this template; it has "
                    + string.Join(", ", allowed.Order(StringComparer.Ordinal).Select(p => $"{{{{{p}}}}}")) + ".");
            }
        }

        // Whatever still holds "{{" or "}}" once the placeholders are gone would reach the reader as written.
        var rest = Placeholder().Replace(template, match => new string(' ', match.Length));
        foreach (var brace in new[] { "{{", "}}" })
        {
            var at = rest.IndexOf(brace, StringComparison.Ordinal);
            if (at >= 0)
            {
                var end = template.IndexOf('\n', at);
                var excerpt = template[at..(end < 0 ? template.Length : Math.Min(end, at + 24))].TrimEnd('\r');
                problems.Add($"{file}: line {LineOf(template, at)}: '{excerpt}' is not a placeholder (write {{{{name}}}}, letters, digits and _ only).");
                break;
            }
        }
    }

    private static void CheckHtml(string file, string html, bool fragment, List<string> problems)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsStrictMode = true });
        try
        {
            if (fragment)
            {
                var context = new HtmlParser().ParseDocument("<!DOCTYPE html><html><head><title></title></head><body></body></html>").Body!;
                parser.ParseFragment(html, context);
            }
            else
            {
                parser.ParseDocument(html);
            }
        }
        catch (HtmlParseException ex)
        {
            var code = Enum.IsDefined((HtmlParseError)ex.Code) ? Words(((HtmlParseError)ex.Code).ToString()) : $"error {ex.Code}";
            problems.Add($"{file}: line {ex.Position.Line}, column {ex.Position.Column}: the HTML is not well formed ({code}).");
        }
    }

    private static string Words(string pascalCase) =>
        string.Concat(pascalCase.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : (i == 0 ? char.ToLowerInvariant(c) : c).ToString()));

    /// <summary>Levenshtein's edit distance, to suggest the name a typo meant.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    private static (string Subject, string Body)? SplitSubject(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var firstLine = (newline < 0 ? text : text[..newline]).TrimEnd('\r');
        return firstLine.StartsWith("Subject: ", StringComparison.Ordinal)
            ? (firstLine["Subject: ".Length..], newline < 0 ? "" : text[(newline + 1)..].TrimStart('\r', '\n'))
            : null;
    }

    private string? Load(string file) =>
        _replacements.TryGetValue(file, out var replaced) ? replaced : _cache.GetOrAdd(file, f => ReadEmbedded(_catalog, f));

    private static string? ReadEmbedded(EmailTemplateCatalog catalog, string file)
    {
        using var stream = catalog.Assembly.GetManifestResourceStream(catalog.Folder + file);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

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
