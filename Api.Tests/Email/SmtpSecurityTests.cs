using System.Globalization;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Accounts.Api.Tests.Email;

/// <summary>TLS (implicit and STARTTLS) with a self-signed certificate made here, AUTH, and secrets kept out of the logs.</summary>
public sealed class SmtpSecurityTests
{
    private const string User = "relay-user@example.test";
    private const string Password = "authorization-code-6b1f0c";

    [Fact]
    public async Task SslOnConnect_with_AUTH_PLAIN_delivers_through_a_relay_whose_self_signed_certificate_is_trusted()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var folder = new TemporaryDatabase("accounts-relay-");
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.Implicit, certificate: certificate, username: User, password: Password, mechanisms: ["PLAIN"]);
        await using var app = TestApp.Start(smtp, Settings(smtp, "SslOnConnect", TestCertificates.WritePem(certificate, folder.Directory)));

        await app.RegisterAsync("alice", "alice@example.com");

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.True(mail.Secure);
        Assert.Equal(User, mail.AuthenticatedAs);
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }

    [Fact]
    public async Task StartTls_with_AUTH_LOGIN_delivers_through_a_relay_whose_self_signed_certificate_is_trusted()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var folder = new TemporaryDatabase("accounts-relay-");
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.StartTls, certificate: certificate, username: User, password: Password, mechanisms: ["LOGIN"]);
        await using var app = TestApp.Start(smtp, Settings(smtp, "StartTls", TestCertificates.WritePem(certificate, folder.Directory)));

        await app.RegisterAsync("alice", "alice@example.com");

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.True(mail.Secure);
        Assert.Equal(User, mail.AuthenticatedAs);
    }

    [Fact]
    public async Task A_certificate_issued_by_a_trusted_private_authority_is_accepted()
    {
        var (authority, server) = TestCertificates.IssuedByPrivateAuthority();
        using var _ = authority;
        using var __ = server;
        using var folder = new TemporaryDatabase("accounts-relay-");
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.Implicit, certificate: server);
        var settings = Settings(smtp, "SslOnConnect", TestCertificates.WritePem(authority, folder.Directory));
        settings.Remove("Email:Smtp:Username");
        settings.Remove("Email:Smtp:Password");
        await using var app = TestApp.Start(smtp, settings);

        await app.RegisterAsync("alice", "alice@example.com");

        Assert.True((await smtp.WaitForMailAsync("alice@example.com")).Secure);
    }

    [Fact]
    public async Task A_relay_whose_certificate_is_not_trusted_gets_nothing_and_the_failure_is_recorded()
    {
        using var certificate = TestCertificates.SelfSigned();
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.Implicit, certificate: certificate, username: User, password: Password);
        await using var app = TestApp.Start(smtp, Settings(smtp, "SslOnConnect", trustedCertificate: null));

        await app.RegisterAsync("alice", "alice@example.com");

        await Eventually.TrueAsync(async () => await app.ScalarAsync<long>("SELECT attempts FROM outbox;") >= 1, "the attempt failed");
        Assert.Equal("pending", await app.ScalarAsync<string>("SELECT status FROM outbox;"));
        Assert.Contains("certificate", await app.ScalarAsync<string>("SELECT last_error FROM outbox;"), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task No_log_line_holds_the_SMTP_password_or_the_raw_token()
    {
        using var certificate = TestCertificates.SelfSigned();
        using var folder = new TemporaryDatabase("accounts-relay-");
        var pem = TestCertificates.WritePem(certificate, folder.Directory);
        var logs = new CapturedLogs();
        await using var smtp = new TestSmtpServer(tls: TestSmtpTls.StartTls, certificate: certificate, username: User, password: Password);
        var settings = Settings(smtp, "StartTls", pem);
        settings["Logging:LogLevel:Default"] = "Trace";
        await using (var app = TestApp.Start(smtp, settings, services: s => s.AddSingleton<ILoggerProvider>(logs)))
        {
            await app.RegisterAsync("alice", "alice@example.com");
            var mail = await smtp.WaitForMailAsync("alice@example.com");
            Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
            Assert.NotEmpty(logs.Entries);
            Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(mail.Token, StringComparison.Ordinal));
        }

        // A relay that refuses the password: the failure is logged, the password is not.
        await using var refusing = new TestSmtpServer(tls: TestSmtpTls.StartTls, certificate: certificate, username: User, password: "another-code");
        settings = Settings(refusing, "StartTls", pem);
        settings["Logging:LogLevel:Default"] = "Trace";
        await using var second = TestApp.Start(refusing, settings, services: s => s.AddSingleton<ILoggerProvider>(logs));
        await second.RegisterAsync("bob", "bob@example.com");
        await Eventually.TrueAsync(async () => await second.ScalarAsync<long>("SELECT attempts FROM outbox;") >= 1, "the attempt failed");

        Assert.Contains(logs.Entries, e => e.ToString().Contains("authentication", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_trusted_certificate_that_cannot_be_read_stops_the_app_with_a_message_naming_the_key()
    {
        var output = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?>
        {
            ["Email:Smtp:TrustedCertificate"] = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pem"),
        });

        Assert.Contains("Email:Smtp:TrustedCertificate", output);
    }

    private static Dictionary<string, string?> Settings(TestSmtpServer smtp, string security, string? trustedCertificate) => new()
    {
        ["Email:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Email:Smtp:Security"] = security,
        ["Email:Smtp:Username"] = User,
        ["Email:Smtp:Password"] = Password,
        ["Email:Smtp:TrustedCertificate"] = trustedCertificate,
    };
}
