using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Email;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace Accounts.Api.Tests.Webhooks;

/// <summary>
/// Account events through the outbox to a real HTTP receiver on loopback, which checks every
/// signature with the npm <c>standardwebhooks</c> package: every event, signed; retries with the
/// same <c>webhook-id</c> and <c>Retry-After</c> honoured; 4xx permanent; order per account; filters;
/// a restart in the middle of a delivery.
/// </summary>
public sealed class WebhookTests
{
    private const string NewPassword = "a changed horse battery staple";
    private const string NewAddress = "alice.new@example.com";

    [Fact]
    public async Task Every_account_event_reaches_the_receiver_in_order_signed_so_that_standardwebhooks_verifies_it_and_holds_no_secret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = TestApp.StartWithSmtp(out var smtp, Settings(receiver));

        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        var userId = await app.ScalarAsync<string>("SELECT id FROM users;");
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, token, "/me/password",
            new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword })).StatusCode);
        token = await app.BearerTokenAsync("alice", NewPassword);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(app, token, "/me/email", new { email = NewAddress, password = NewPassword })).StatusCode);
        var confirm = await smtp.WaitForMailAsync(NewAddress);
        Assert.Equal("email_changed", await (await app.Client.PostAsJsonAsync("/email/confirm", new { token = confirm.Token })).StatusAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, token, "/me/delete", new { password = NewPassword })).StatusCode);

        var delivered = await receiver.WaitForDeliveredAsync(5);

        Assert.Equal(["user.registered", "user.activated", "user.password_changed", "user.email_changed", "user.deleted"], delivered.Select(d => d.Type));
        Assert.All(delivered, d => Assert.True(d.Verified, d.Error));
        Assert.All(delivered, d => Assert.Equal("/hooks/accounts", d.Path));
        Assert.Equal(5, delivered.Select(d => d.Id).Distinct().Count());
        Assert.All(delivered, d => Assert.StartsWith("msg_", d.Id, StringComparison.Ordinal));
        foreach (var delivery in delivered)
        {
            var body = delivery.Body!.Value;
            Assert.Equal(["type", "timestamp", "data"], body.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["userId", "username", "email"], body.GetProperty("data").EnumerateObject().Select(p => p.Name));
            Assert.Equal(userId, body.GetProperty("data").GetProperty("userId").GetString());
            Assert.Equal("alice", delivery.Username);
            Assert.True(DateTimeOffset.TryParse(body.GetProperty("timestamp").GetString(), out _));
            Assert.DoesNotContain(TestData.StrongPassword, body.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(NewPassword, body.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal("alice@example.com", delivered[2].Body!.Value.GetProperty("data").GetProperty("email").GetString());
        Assert.Equal(NewAddress, delivered[3].Body!.Value.GetProperty("data").GetProperty("email").GetString());
        Assert.Equal(NewAddress, delivered[4].Body!.Value.GetProperty("data").GetProperty("email").GetString());
        // Delivered: the event's body (the account's name and address) is not kept in the outbox.
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE transport = 'webhook' AND payload IS NOT NULL;") == 0,
            "no delivered event keeps its body");
    }

    [Fact]
    public async Task A_receiver_that_fails_then_recovers_gets_every_event_in_order_per_account_with_one_webhook_id_per_event_and_Retry_After_honoured()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await receiver.FailNextAsync((503, "1"), (500, null), (429, null), (408, null), (502, null));
        await using var app = TestApp.StartWithSmtp(out _, Settings(receiver, fastRetries: true));

        await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.SignedInAccountAsync("bob", "bob@example.com");

        var delivered = await receiver.WaitForDeliveredAsync(4);
        var all = await receiver.ReceivedAsync();

        Assert.All(all, d => Assert.True(d.Verified, d.Error));
        Assert.Equal(9, all.Count); // five failed attempts, then the four events
        foreach (var user in new[] { "alice", "bob" })
        {
            Assert.Equal(["user.registered", "user.activated"], delivered.Where(d => d.Username == user).Select(d => d.Type));
        }

        // A retry is the same message: every failed attempt's id is delivered later, once.
        Assert.All(all.Where(d => d.Answered >= 400), failed => Assert.Single(delivered, d => d.Id == failed.Id));
        Assert.Equal(4, delivered.Select(d => d.Id).Distinct().Count());
        var first = all[0];
        var next = all.Skip(1).First(d => d.Id == first.Id);
        Assert.True(next.ReceivedAt - first.ReceivedAt >= 950, $"Retry-After: 1 was honoured ({next.ReceivedAt - first.ReceivedAt} ms)");
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE transport = 'webhook' AND status <> 'sent';") == 0,
            "every event is recorded as sent");
    }

    [Fact]
    public async Task A_receiver_that_is_down_gets_every_event_in_order_once_it_listens()
    {
        var port = FreePort();
        var secret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var app = TestApp.StartWithSmtp(out _, new Dictionary<string, string?>
        {
            ["Webhooks:Endpoints:0:Url"] = $"http://127.0.0.1:{port}/hooks/accounts",
            ["Webhooks:Endpoints:0:Secret"] = secret,
            ["Email:Delivery:InitialBackoff"] = "00:00:00.100",
            ["Email:Delivery:MaxBackoff"] = "00:00:00.300",
            ["Email:Delivery:MaxAttempts"] = "1000",
        });

        await app.SignedInAccountAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT MAX(attempts) FROM outbox WHERE transport = 'webhook';") >= 3,
            "the event is tried and retried while nothing listens");
        Assert.Contains("POST to http://127.0.0.1:", await app.ScalarAsync<string>("SELECT last_error FROM outbox WHERE transport = 'webhook' AND attempts > 0 ORDER BY id LIMIT 1;"), StringComparison.Ordinal);
        // The later event waits for the earlier one: it has not been tried at all.
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT attempts FROM outbox WHERE transport = 'webhook' AND kind = 'user.activated';"));

        await using var receiver = await WebhookReceiver.StartAsync(secret, port);
        var delivered = await receiver.WaitForDeliveredAsync(2);

        Assert.Equal(["user.registered", "user.activated"], delivered.Select(d => d.Type));
        Assert.All(delivered, d => Assert.True(d.Verified, d.Error));
    }

    [Fact]
    public async Task A_4xx_answer_other_than_408_and_429_is_permanent_and_the_event_is_dead_for_the_outbox_command_line()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await receiver.FailNextAsync((410, null));
        await using var app = TestApp.StartWithSmtp(out var smtp, Settings(receiver, fastRetries: true));

        await app.RegisterAsync("alice", "alice@example.com");

        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<string>("SELECT status FROM outbox WHERE transport = 'webhook';") == "dead", "the event is dead");
        Assert.Contains("HTTP 410", await app.ScalarAsync<string>("SELECT last_error FROM outbox WHERE transport = 'webhook';"), StringComparison.Ordinal);
        Assert.Single(await receiver.ReceivedAsync());
        await smtp.WaitForMailAsync("alice@example.com"); // mail is not held up by it
    }

    [Fact]
    public async Task An_endpoint_with_Events_gets_only_those_and_one_without_gets_all()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:Endpoints:0:Url"] = new Uri(receiver.Url, "/all").AbsoluteUri,
            ["Webhooks:Endpoints:0:Secret"] = receiver.Secret,
            ["Webhooks:Endpoints:1:Url"] = new Uri(receiver.Url, "/activations").AbsoluteUri,
            ["Webhooks:Endpoints:1:Secret"] = receiver.Secret,
            ["Webhooks:Endpoints:1:Events:0"] = "user.activated",
        };
        await using var app = TestApp.StartWithSmtp(out _, settings);

        await app.SignedInAccountAsync("alice", "alice@example.com");

        var delivered = await receiver.WaitForDeliveredAsync(3);
        Assert.Equal(["user.registered", "user.activated"], delivered.Where(d => d.Path == "/all").Select(d => d.Type));
        Assert.Equal(["user.activated"], delivered.Where(d => d.Path == "/activations").Select(d => d.Type));
        Assert.All(delivered, d => Assert.True(d.Verified, d.Error));
    }

    [Fact]
    public async Task An_event_whose_delivery_a_restart_interrupted_is_delivered_after_the_restart_with_the_same_webhook_id_in_a_span_linked_to_the_request()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await receiver.HangNextAsync();
        using var folder = new TemporaryDatabase("accounts-webhook-restart-");
        var settings = Settings(receiver);
        var before = new TelemetryTests.LockedList<Activity>();

        long interrupted;
        ActivityTraceId registration;
        await using (var first = TestApp.Start(new TestSmtpServer(), settings, directory: folder.Directory, services: s =>
        {
            s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
            s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(before));
        }))
        {
            await first.RegisterAsync("alice", "alice@example.com");
            await Eventually.TrueAsync(async () => (await receiver.ReceivedAsync()).Count == 1, "the first POST is in progress");
            interrupted = await first.ScalarAsync<long>("SELECT id FROM outbox WHERE transport = 'webhook';");
            await first.StopAsync();
            registration = Assert.Single(before.Snapshot(), a =>
                a.Kind == ActivityKind.Server && (string?)a.GetTagItem("url.path") == "/register" && Equals(a.GetTagItem("server.port"), first.BaseAddress.Port)).TraceId;
        }

        var after = new TelemetryTests.LockedList<Activity>();
        await using var second = TestApp.Start(
            new TestSmtpServer(), settings, directory: folder.Directory, services: s => s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(after)));
        var delivered = await receiver.WaitForDeliveredAsync(1);
        var owner = second.Services.GetRequiredService<Outbox>().LeaseOwner;
        Activity? send = null;
        await Eventually.TrueAsync(
            () => Task.FromResult((send = after.Snapshot().FirstOrDefault(a => a.OperationName == "webhook send"
                && (string?)a.GetTagItem("outbox.owner") == owner && (string?)a.GetTagItem("webhook.outcome") == "sent")) is not null),
            "the webhook's send span after the restart is exported");
        Assert.Equal(ActivityKind.Client, send!.Kind);
        Assert.Equal("user.registered", send.GetTagItem("webhook.type"));
        Assert.Equal(registration, Assert.Single(send.Links).Context.TraceId);

        var hung = (await receiver.ReceivedAsync())[0];
        Assert.Equal(0, hung.Answered);
        Assert.Equal(hung.Id, delivered[0].Id);
        Assert.Equal("user.registered", delivered[0].Type);
        Assert.True(delivered[0].Verified, delivered[0].Error);
        // Outcomes are committed in batches after the send span ends: wait for the row, do not race it.
        await Eventually.TrueAsync(
            async () => await second.ScalarAsync<string>("SELECT status FROM outbox WHERE id = @Id;", new { Id = interrupted }) == "sent",
            "the interrupted event's row is marked sent");
    }

    [Theory]
    [InlineData("Webhooks:Endpoints:0:Secret", "not-a-secret", "Webhooks:Endpoints:0:Secret must start with 'whsec_'.")]
    [InlineData("Webhooks:Endpoints:0:Url", "ftp://example.test/hook", "Webhooks:Endpoints:0:Url 'ftp://example.test/hook' must be an absolute http or https URL")]
    [InlineData("Webhooks:Endpoints:0:Events:0", "user.renamed", "Webhooks:Endpoints:0:Events:0 'user.renamed' is not an event; the events are user.activated, user.deleted,")]
    public async Task A_bad_endpoint_setting_stops_the_app_naming_the_key(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:Endpoints:0:Url"] = "https://hooks.example.test/accounts",
            ["Webhooks:Endpoints:0:Secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            [key] = value,
        };

        Assert.Contains(message, await ApiProcess.FailedStartOutputAsync(settings), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(WebhookReceiver receiver, bool fastRetries = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:Endpoints:0:Url"] = receiver.Url.AbsoluteUri,
            ["Webhooks:Endpoints:0:Secret"] = receiver.Secret,
        };
        if (fastRetries)
        {
            settings["Email:Delivery:InitialBackoff"] = "00:00:00.050";
            settings["Email:Delivery:MaxBackoff"] = "00:00:00.100";
        }

        return settings;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<HttpResponseMessage> PostAsync(TestApp app, string token, string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return app.Client.SendAsync(request);
    }
}
