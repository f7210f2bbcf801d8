using System.Globalization;
using System.Net;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Email;

/// <summary>
/// A relay that does not take our mail shows in <c>/health/ready</c> (Degraded, with the last error)
/// and in the log, early: a wrong password against a relay that stalls on it, a refused one,
/// attempts failing in a row, and mail waiting longer than <c>Email:Delivery:MaxPendingAge</c>.
/// </summary>
public sealed class RelayHealthTests
{
    private const string User = "relay-user@example.test";
    private const string Password = "authorization-code-6b1f0c";

    [Fact]
    public async Task A_wrong_password_over_STARTTLS_to_a_relay_that_stalls_on_it_turns_readiness_Degraded_before_the_timeout_and_names_authentication()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var folder = new TemporaryDatabase("accounts-relay-");
        var logs = new CapturedLogs();
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.StartTls, certificate: certificate, username: User, password: Password)
        {
            StallOnBadCredentials = true,
        };
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Email:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:Security"] = "StartTls",
            ["Email:Smtp:Username"] = User,
            ["Email:Smtp:Password"] = "the password used on the web",
            ["Email:Smtp:TrustedCertificate"] = TestCertificates.WritePem(certificate, folder.Directory),
            ["Email:Smtp:Timeout"] = "00:00:08",
        }, services: s => s.AddSingleton<ILoggerProvider>(logs));

        await app.RegisterAsync("alice", "alice@example.com");

        // Half the command timeout into the unanswered AUTH, readiness says so, as does the log.
        var stalled = await ReadyWhenAsync(app, email => email.TryGetProperty("reason", out var reason) && reason.GetString()!.Contains("has not answered AUTH", StringComparison.Ordinal));
        Assert.Equal("Degraded", stalled.Status);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("has not answered AUTH", StringComparison.Ordinal));

        // At the timeout the attempt fails as an authentication failure, not a bare I/O error.
        var failed = await ReadyWhenAsync(app, email => email.TryGetProperty("lastError", out _), TimeSpan.FromSeconds(20));
        Assert.Equal("Degraded", failed.Status);
        Assert.True(failed.Email.GetProperty("authenticationFailed").GetBoolean());
        Assert.StartsWith($"SMTP authentication failed: 127.0.0.1:{smtp.Port} did not answer AUTH within 8 s", failed.Email.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Contains("refuses our credentials", failed.Email.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("refuses our credentials", StringComparison.Ordinal));
        Assert.Equal("pending", await app.ScalarAsync<string>("SELECT status FROM outbox;"));
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task A_refused_password_is_named_in_the_health_JSON_and_logged_as_an_error_once_however_often_it_is_retried()
    {
        var logs = new CapturedLogs();
        await using var smtp = new TestSmtpServer(username: User, password: Password);
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Email:Smtp:Security"] = "None",
            ["Email:Smtp:Username"] = User,
            ["Email:Smtp:Password"] = "wrong",
            ["Email:Delivery:InitialBackoff"] = "00:00:00.050",
            ["Email:Delivery:MaxBackoff"] = "00:00:00.100",
        }, services: s => s.AddSingleton<ILoggerProvider>(logs));

        await app.RegisterAsync("alice", "alice@example.com");

        await Eventually.TrueAsync(async () => await app.ScalarAsync<long>("SELECT attempts FROM outbox;") >= 3, "three attempts are made");
        var ready = await ReadyWhenAsync(app, email => email.TryGetProperty("lastError", out _));
        Assert.Equal("Degraded", ready.Status);
        Assert.True(ready.Email.GetProperty("authenticationFailed").GetBoolean());
        Assert.Contains("SMTP authentication refused by 127.0.0.1:", ready.Email.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Contains("535", ready.Email.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Contains("SMTP authentication refused", await app.ScalarAsync<string>("SELECT last_error FROM outbox;"), StringComparison.Ordinal);
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("refuses our credentials", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attempts_failing_in_a_row_turn_readiness_Degraded_with_the_last_error_and_a_delivery_makes_it_Healthy_again()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>
        {
            ["Email:Delivery:InitialBackoff"] = "00:00:00.050",
            ["Email:Delivery:MaxBackoff"] = "00:00:00.100",
        });
        smtp.ReplyOverride = line => line.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase) ? "451 4.3.0 Try again later" : null;

        await app.RegisterAsync("alice", "alice@example.com");

        var failing = await ReadyWhenAsync(app, email => email.TryGetProperty("consecutiveFailures", out var n) && n.GetInt32() >= 3);
        Assert.Equal("Degraded", failing.Status);
        Assert.Contains("SMTP 451 to SenderNotAccepted: 4.3.0 Try again later", failing.Email.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.False(failing.Email.GetProperty("authenticationFailed").GetBoolean());
        Assert.Matches(@"^The last \d+ delivery attempts failed\.$", failing.Email.GetProperty("reason").GetString());

        smtp.ReplyOverride = null;
        await smtp.WaitForMailAsync("alice@example.com");
        var recovered = await ReadyWhenAsync(app, email => !email.TryGetProperty("lastError", out _));
        Assert.Equal("Healthy", recovered.Status);
        Assert.False(recovered.Email.TryGetProperty("reason", out _));
    }

    [Fact]
    public async Task A_pending_mail_older_than_MaxPendingAge_turns_readiness_Degraded()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var smtp = new TestSmtpServer();
        await smtp.StopListeningAsync();
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?> { ["Email:Delivery:MaxPendingAge"] = "00:10:00" }, time);

        await app.RegisterAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(async () => await app.ScalarAsync<long>("SELECT attempts FROM outbox;") == 1, "the first attempt fails");

        var early = await ReadyWhenAsync(app, email => email.TryGetProperty("lastError", out _));
        Assert.Equal("Healthy", early.Status); // one failure, nine minutes to go: no alarm yet
        time.Advance(TimeSpan.FromMinutes(11));

        var late = await ReadyWhenAsync(app, email => email.TryGetProperty("reason", out _));
        Assert.Equal("Degraded", late.Status);
        Assert.Equal("The oldest pending message has waited 11 minutes (Email:Delivery:MaxPendingAge is 00:10:00).", late.Email.GetProperty("reason").GetString());
        Assert.Equal(660, late.Email.GetProperty("oldestPendingSeconds").GetInt64());
    }

    /// <summary>Reads <c>/health/ready</c> until its email check matches (it is always a 200 here).</summary>
    private static async Task<(string Status, JsonElement Email)> ReadyWhenAsync(TestApp app, Func<JsonElement, bool> condition, TimeSpan? timeout = null)
    {
        (string, JsonElement) last = default;
        await Eventually.TrueAsync(
            async () =>
            {
                var response = await app.Client.GetAsync("/health/ready");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                last = (root.GetProperty("status").GetString()!, root.GetProperty("checks").GetProperty("email"));
                return condition(last.Item2);
            },
            "readiness shows the relay's state",
            timeout);
        return last;
    }
}
