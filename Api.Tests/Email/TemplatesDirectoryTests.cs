using System.Net;
using System.Text;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Email;

/// <summary><c>Email:TemplatesDirectory</c> over the real app: an operator's wording reaches the SMTP server; a bad file stops the start.</summary>
public sealed class TemplatesDirectoryTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("accounts-templates-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task An_operators_activation_template_is_what_the_mail_says_with_values_encoded_and_the_other_kinds_unchanged()
    {
        Write("activation.en.txt", "Subject: Your {{product}} key\n\nDear {{username}}, your key: {{link}} (code {{code}}).\n");
        Write("activation.en.html", "<h1>Dear {{username}}</h1>\n<p><a href=\"{{link}}\">Use the key</a> from {{product}}: <b>{{code}}</b></p>\n");
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>
        {
            ["Email:TemplatesDirectory"] = _folder.FullName,
            ["Email:ProductName"] = "Tom & Jerry <Accounts>",
            ["Activation:ResendCooldown"] = "00:00:00",
        });

        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("templated", "templated@example.test")).StatusCode);
        var mail = await smtp.WaitForMailAsync("templated@example.test");

        Assert.Equal("Your Tom & Jerry <Accounts> key", mail.Subject);
        Assert.StartsWith($"Dear templated, your key: {mail.Link.AbsoluteUri} (code {mail.Code}).", mail.TextBody);
        Assert.Contains("<h1>Dear templated</h1>", mail.HtmlBody);
        Assert.Contains("from Tom &amp; Jerry &lt;Accounts&gt;:", mail.HtmlBody);
        Assert.DoesNotContain("<Accounts>", mail.HtmlBody);
        // The operator's link works like the built-in one.
        var activated = await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("templated2", "templated@example.test")).StatusCode);
        var notice = await smtp.WaitForMailAsync("templated@example.test");
        Assert.Equal("Someone tried to register with your email", notice.Subject);
    }

    [Fact]
    public async Task A_bad_template_stops_the_built_app_at_start_naming_the_file_and_the_problem()
    {
        Write("password_reset.zh-CN.txt", "Subject: 重置密码\n\n{{link}}，{{hours}} 小时内有效\n");
        Write("password_reset.zh-CN.html", "<p>{{link}}</p>");

        var output = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?> { ["Email:TemplatesDirectory"] = _folder.FullName });

        Assert.Contains($"Email:TemplatesDirectory '{_folder.FullName}': password_reset.zh-CN.txt: line 3: {{{{hours}}}} is not a placeholder of this template", output);
    }

    private void Write(string file, string content) => File.WriteAllText(Path.Combine(_folder.FullName, file), content, new UTF8Encoding(false));
}
