using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Accounts.Api.Tests.Infrastructure;
using MimeKit;
using Xunit.Abstractions;

namespace Accounts.Api.Tests.Reference;

/// <summary>
/// Every kind of mail the app sends, in each language, as the test SMTP server received it, scored
/// by SpamAssassin's local rules (Debian's <c>spamassassin</c>, <c>-L</c>: no network tests), the
/// filter most receiving sides run in some form.
/// </summary>
public sealed partial class MailSpamScoreTests(ITestOutputHelper output)
{
    /// <summary>No single rule may add more than this: a mail that trips one is doing something filters dislike.</summary>
    private const double MostPointsOfOneRule = 0.5;

    private const string NewPassword = "a changed horse battery staple";

    [Theory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public async Task No_SpamAssassin_rule_worth_more_than_half_a_point_fires_on_any_kind_of_mail(string language)
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>
        {
            ["PasswordReset:Cooldown"] = "00:00:00",
            ["EmailChange:Cooldown"] = "00:00:00",
            ["Activation:ResendCooldown"] = "00:00:00",
            ["Email:FromName"] = "Example Accounts",
        });
        var mails = await EveryKindAsync(app, smtp, language);
        Assert.Equal(7, mails.Select(m => m.Kind).Distinct().Count());

        var reports = await ScoreAsync(mails.Select(m => m.Mail.Data).ToList());
        var fired = new List<string>();
        foreach (var ((kind, mail), report) in mails.Zip(reports))
        {
            var message = MimeMessage.Load(new MemoryStream(mail.Data));
            // What the receiving side reads first: the headers a transactional mail should carry.
            Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
            Assert.EndsWith("@example.test", message.MessageId, StringComparison.Ordinal);
            output.WriteLine($"{kind} ({language}): {string.Join(", ", report.Select(r => $"{r.Rule} {r.Points:0.0}"))}");
            fired.AddRange(report.Where(r => r.Points > MostPointsOfOneRule).Select(r => $"{kind}: {r.Rule} ({r.Points} points)"));
        }

        Assert.True(fired.Count == 0, $"Rules above {MostPointsOfOneRule} points fired:\n{string.Join('\n', fired)}");
    }

    /// <summary>
    /// One mail of each kind for an account in <paramref name="language"/>: activation, account
    /// exists, password reset, password changed, email change (to the new address), the notice of
    /// it (to the old one), and email in use (to the address's owner).
    /// </summary>
    private static async Task<List<(string Kind, ReceivedMail Mail)>> EveryKindAsync(TestApp app, TestSmtpServer smtp, string language)
    {
        var mails = new List<(string, ReceivedMail)>();
        var (token, activation) = await app.SignedInAccountAsync("alice", "alice@example.com", language);
        mails.Add(("activation", activation));
        await app.SignedInAccountAsync("bob", "bob@example.com", language);

        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("alice2", "alice@example.com", language: language)).StatusCode);
        mails.Add(("account_exists", await NextAsync(smtp, "alice@example.com", 2)));

        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" })).StatusCode);
        mails.Add(("password_reset", await NextAsync(smtp, "alice@example.com", 3)));

        await SendAsync(app, token, "/me/email", new { email = "alice.new@example.com", password = TestData.StrongPassword }, HttpStatusCode.Accepted);
        mails.Add(("email_change", await NextAsync(smtp, "alice.new@example.com", 1)));
        mails.Add(("email_change_requested", await NextAsync(smtp, "alice@example.com", 4)));

        await SendAsync(app, token, "/me/email", new { email = "bob@example.com", password = TestData.StrongPassword }, HttpStatusCode.Accepted);
        mails.Add(("email_in_use", await NextAsync(smtp, "bob@example.com", 2)));

        await SendAsync(app, token, "/me/password", new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword }, HttpStatusCode.NoContent);
        mails.Add(("password_changed", await NextAsync(smtp, "alice@example.com", 6)));
        return mails;
    }

    private static async Task SendAsync(TestApp app, string token, string path, object body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await app.Client.SendAsync(request);
        Assert.True(response.StatusCode == expected, $"{path}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The <paramref name="count"/>th mail to <paramref name="recipient"/>, once it has arrived.</summary>
    private static async Task<ReceivedMail> NextAsync(TestSmtpServer smtp, string recipient, int count)
    {
        ReceivedMail[] received = [];
        await Eventually.TrueAsync(
            () => Task.FromResult((received = [.. smtp.Received.Where(m => m.Recipients.Contains(recipient))]).Length >= count),
            $"mail {count} to {recipient}");
        return received[count - 1];
    }

    /// <summary>
    /// Runs <c>spamassassin -L -t</c> on each mail, two at a time (one process per mail: its
    /// <c>--mbox</c> mode did not keep the reports in the mails' order); the rules each fired, with their points.
    /// </summary>
    private static async Task<List<(string Rule, double Points)>[]> ScoreAsync(List<byte[]> mails)
    {
        using var gate = new SemaphoreSlim(2);
        return await Task.WhenAll(mails.Select(async mail =>
        {
            await gate.WaitAsync();
            try
            {
                var (exitCode, text, error) = await NodeTools.ExecuteAsync(
                    "spamassassin", ["-L", "-t"], Encoding.UTF8.GetString(mail), TimeSpan.FromMinutes(2));
                Assert.True(exitCode is 0 or 1, $"spamassassin exited with {exitCode}: {error}"); // 1: the mail was spam
                var report = Assert.Single(text.Split("Content analysis details:")[1..]);
                return RuleLine().Matches(report)
                    .Select(m => (m.Groups["rule"].Value, double.Parse(m.Groups["points"].Value, System.Globalization.CultureInfo.InvariantCulture)))
                    .ToList();
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    [GeneratedRegex(@"^\s*(?<points>-?\d+(\.\d+)?)\s+(?<rule>[A-Z][A-Z0-9_]+)\s", RegexOptions.Multiline)]
    private static partial Regex RuleLine();
}
