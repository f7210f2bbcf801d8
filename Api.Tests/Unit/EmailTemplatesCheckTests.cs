using System.Text;
using Accounts.Api.Accounts;
using Accounts.Api.Email;

namespace Accounts.Api.Tests.Unit;

/// <summary>What the start-up check of <c>Email:TemplatesDirectory</c> says about an operator's templates.</summary>
public sealed class EmailTemplatesCheckTests : IDisposable
{
    private const string Text = "Subject: Welcome to {{product}}\n\nHi {{username}}, open {{link}} or type {{code}} within {{hours}} hours.\n";
    private const string Html = "<p>Hi {{username}},</p>\n<p><a href=\"{{link}}\">Start</a> or type <b>{{code}}</b>.</p>\n";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("accounts-templates-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void The_built_in_templates_pass_the_check()
    {
        Assert.Empty(Check(directory: null));
    }

    [Fact]
    public void A_good_replacement_passes_and_replaces_only_its_kind_and_language_with_values_still_encoded()
    {
        Write("activation.en.txt", Text);
        Write("activation.en.html", Html);

        Assert.Empty(Check(_folder.FullName));
        var templates = new AccountEmailTemplates(new EmailOptions { ProductName = "Tom & Jerry" }, _folder.FullName);
        var link = new Uri("https://example.test/activate?token=a&b=c");
        var mail = templates.Activation("en", "<i>bob</i>", link, "123456", TimeSpan.FromDays(1));
        Assert.Equal("Welcome to Tom & Jerry", mail.Subject);
        Assert.StartsWith("Hi <i>bob</i>, open https://example.test/activate?token=a&b=c or type 123456 within 24 hours.", mail.TextBody);
        Assert.Contains("<p>Hi &lt;i&gt;bob&lt;/i&gt;,</p>", mail.HtmlBody);
        Assert.Contains("<a href=\"https://example.test/activate?token=a&amp;b=c\">Start</a>", mail.HtmlBody);
        Assert.Contains("Tom &amp; Jerry", mail.HtmlBody); // the built-in layout, with the operator's product name encoded
        Assert.Equal("激活您的Tom & Jerry账户", templates.Activation("zh-CN", "bob", link, "123456", TimeSpan.FromDays(1)).Subject);
        Assert.Equal("Reset your Tom & Jerry password", templates.PasswordReset("en", "bob", link, "123456", TimeSpan.FromHours(1)).Subject);
    }

    [Fact]
    public void Every_problem_is_named_with_its_file()
    {
        Write("activaton.en.html", Html);                                       // a typo
        Write("Activation.zh-CN.txt", Text);                                    // the wrong case
        Write("password_reset.en.txt", "Subject: Reset\n\n{{link}} for {{hours}} hours\n"); // reset has minutes, not hours
        Write("password_reset.en.html", "<p>{{link}} for {{minutes}} minutes</p>");
        Write("account_exists.en.txt", "Hello {{username}}\n");                 // no subject line
        Write("account_exists.en.html", "<p>Hello {{ username }}</p>");         // not a placeholder
        Write("email_in_use.zh-CN.txt", "Subject: 在用\n\n{{username}}\n");      // and no HTML beside it
        Write("password_changed.en.txt", "Subject: Changed\n\n{{username}}\n");
        Write("password_changed.en.html", "<p>Changed,\n<div>{{username}}</p>");  // a tag closed in the wrong place
        Write("_layout.html", "<!DOCTYPE html><html><head><title>{{subject}}</title></head><body>nothing</body></html>");
        File.WriteAllBytes(Path.Combine(_folder.FullName, "email_change.en.txt"), [0x53, 0x75, 0xC3, 0x28]);
        Write("email_change.en.html", "<p>{{link}}</p>");
        Write(".DS_Store", "ignored");

        var problems = Check(_folder.FullName);

        Assert.Contains(
            "activaton.en.html: not a template name (did you mean activation.en.html?); a name is _layout.html or kind.language.txt or .html, the kind one of "
            + "account_exists, activation, email_change, email_change_requested, email_in_use, password_changed, password_reset and the language one of en, zh-CN.",
            problems);
        Assert.Contains(problems, p => p.StartsWith("Activation.zh-CN.txt: not a template name (did you mean activation.zh-CN.txt?);", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("password_reset.en.txt: line 3: {{hours}} is not a placeholder of this template; it has {{code}}, {{lang}}, {{link}}, {{minutes}}, {{product}}, {{subject}}, {{support}}, {{username}}.", StringComparison.Ordinal));
        Assert.Contains("account_exists.en.txt: line 1 must be 'Subject: ' and the subject.", problems);
        Assert.Contains("account_exists.en.html: line 1: '{{ username }}</p>' is not a placeholder (write {{name}}, letters, digits and _ only).", problems);
        Assert.Contains("email_in_use.zh-CN.txt: email_in_use.zh-CN.html is missing beside it; a mail's text and HTML parts are replaced together, so that they say the same.", problems);
        Assert.Contains("password_changed.en.html: line 2, column 18: the HTML is not well formed (paragraph not in scope).", problems);
        Assert.Contains("_layout.html: has no {{content}}, where each mail's HTML goes.", problems);
        Assert.Contains("email_change.en.txt: not UTF-8.", problems);
        Assert.DoesNotContain(problems, p => p.Contains(".DS_Store", StringComparison.Ordinal));
        Assert.Equal(9, problems.Count);
    }

    [Fact]
    public void A_folder_that_does_not_exist_is_one_problem()
    {
        Assert.Equal(["the folder does not exist."], Check(Path.Combine(_folder.FullName, "missing")));
    }

    private static IReadOnlyList<string> Check(string? directory) => EmailTemplates.Check([AccountEmailTemplates.Catalog], directory);

    private void Write(string file, string content) => File.WriteAllText(Path.Combine(_folder.FullName, file), content, new UTF8Encoding(false));
}
