using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Accounts.Api.Tests.Email;

public sealed class DeliveryTests
{
    [Fact]
    public async Task With_no_settings_mail_is_written_to_the_pickup_directory()
    {
        await using var app = TestApp.Start(smtp: null);
        await app.RegisterAsync("alice", "alice@example.com");
        var pickup = Path.Combine(app.Directory, "mail");

        await Eventually.TrueAsync(
            () => Task.FromResult(Directory.Exists(pickup) && Directory.GetFiles(pickup, "*.eml").Length == 1),
            "one .eml file is in the pickup directory");

        var message = await MimeKit.MimeMessage.LoadAsync(Directory.GetFiles(pickup, "*.eml").Single());
        Assert.Equal("alice@example.com", message.To.Mailboxes.Single().Address);
        Assert.Contains($"{TestApp.PublicBaseUrl}/activate?token=", message.TextBody);
        // Outcomes are committed in batches, a few milliseconds after the send.
        await Eventually.TrueAsync(async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "sent", "the row is marked sent");
    }

    [Fact]
    public async Task The_outbox_row_says_what_to_send_and_holds_no_secret()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Email:Transport"] = "Log" });
        await app.RegisterAsync("alice", "alice@example.com", language: "zh-CN");

        var row = (await app.QueryAsync<(string Kind, string Recipients, string UserId, string Language)>(
            "SELECT kind, recipients, user_id, language FROM outbox;")).Single();

        Assert.Equal("activation", row.Kind);
        Assert.Equal(["alice@example.com"], JsonSerializer.Deserialize<string[]>(row.Recipients)!);
        Assert.Equal(await app.ScalarAsync<string>("SELECT id FROM users;"), row.UserId);
        Assert.Equal("zh-CN", row.Language);
        var columns = await app.QueryAsync<string>(TestStorage.IsPostgres
            ? "SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox';"
            : "SELECT name FROM pragma_table_info('outbox');");
        Assert.Contains("recipients", columns);
        Assert.DoesNotContain(columns, c => c.Contains("token", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task When_the_SMTP_server_is_down_the_mail_stays_pending_with_the_failure_recorded()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?>
        {
            ["Email:Transport"] = "Smtp",
            ["Email:Smtp:Port"] = ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        await app.RegisterAsync("alice", "alice@example.com");

        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT attempts FROM outbox;") == 1,
            "the failed attempt is counted");
        var row = (await app.QueryAsync<(string Status, string LastError, long NextAttemptAt, long CreatedAt)>(
            "SELECT status, last_error, next_attempt_at, created_at FROM outbox;")).Single();
        Assert.Equal("pending", row.Status);
        Assert.False(string.IsNullOrEmpty(row.LastError));
        Assert.True(row.NextAttemptAt > row.CreatedAt, "the retry is scheduled later, not in a hot loop");

        var ready = JsonDocument.Parse(await app.Client.GetStringAsync("/health/ready")).RootElement;
        Assert.Equal(1, ready.GetProperty("checks").GetProperty("email").GetProperty("pending").GetInt64());
    }

    [Fact]
    public async Task A_5xx_reply_parks_the_mail_as_dead_with_the_servers_reply_and_health_turns_degraded()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        smtp.ReplyOverride = line => line.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase) ? "550 5.1.1 No such user here" : null;

        await app.RegisterAsync("alice", "alice@example.com");

        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "dead",
            "the mail is dead");
        Assert.Contains("No such user here", await app.ScalarAsync<string>("SELECT last_error FROM outbox;"));
        var response = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Degraded", ready.GetProperty("status").GetString());
        Assert.Equal(1, ready.GetProperty("checks").GetProperty("email").GetProperty("dead").GetInt64());
    }

    [Fact]
    public async Task Mail_in_flight_when_the_app_stops_is_delivered_after_the_restart()
    {
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start(); // accepts connections and never answers: the send hangs until the app stops
        var port = ((IPEndPoint)blackHole.LocalEndpoint).Port;
        await using var first = TestApp.Start(smtp: null, new Dictionary<string, string?>
        {
            ["Email:Transport"] = "Smtp",
            ["Email:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email:Smtp:Timeout"] = "00:05:00",
        }, services: services => services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1)));
        await first.RegisterAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(
            async () => await first.ScalarAsync<long?>("SELECT lease_until FROM outbox;") is not null,
            "the worker has claimed the mail");
        await first.StopAsync();
        Assert.Equal("pending", await first.ScalarAsync<string>("SELECT status FROM outbox;"));

        await using var smtp = new TestSmtpServer();
        await using var second = TestApp.Start(smtp, directory: first.Directory);

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("activated", await (await second.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }

#if !POSTGRES
    // One instance on its own SQLite file: every lease is its own. (On PostgreSQL a claim may be
    // another instance's, and comes back when its lease ends: Api.Tests.Postgres/SeveralInstancesTests.)
    [Fact]
    public async Task A_claim_left_by_a_crashed_process_is_taken_back_at_the_next_start()
    {
        await using var first = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Email:Transport"] = "Log" });
        await first.RegisterAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(async () => await first.ScalarAsync<string>("SELECT status FROM outbox;") == "sent", "the mail is sent");
        await first.StopAsync();
        // What a kill -9 in the middle of a send leaves behind: a pending row with a live lease.
        await first.ScalarAsync<long>(
            "UPDATE outbox SET status = 'pending', lease_until = @Far RETURNING id;",
            new { Far = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds() });

        await using var smtp = new TestSmtpServer();
        await using var second = TestApp.Start(smtp, directory: first.Directory);

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("activated", await (await second.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }
#endif

    [Fact]
    public async Task A_message_with_several_recipients_goes_out_once_to_all_of_them()
    {
        await using var smtp = new TestSmtpServer();
        await using var app = TestApp.Start(smtp, services: TestOutbox.AddGreetings);
        var signal = app.Services.GetRequiredService<OutboxSignal>();
        var database = app.Services.GetRequiredService<Database>();

        var id = await database.WriteAsync(session => session.Outbox.AddAsync(
            new NewOutboxMessage("greeting", ["a@example.com", "b@example.com"], null, "en"), DateTimeOffset.UtcNow));
        signal.Notify();

        var mail = await smtp.WaitForMailAsync();
        Assert.Equal(["a@example.com", "b@example.com"], mail.Recipients);
        Assert.Equal("Hello", mail.Subject);
    }

    /// <summary>A loopback port nothing listens on: connecting to it is refused at once.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
