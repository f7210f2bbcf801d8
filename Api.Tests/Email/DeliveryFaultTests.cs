using Accounts.Api.Email;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Accounts.Api.Tests.Email;

/// <summary>Delivery against an SMTP server that is down, refuses, drops, hangs or is stopped mid-send.</summary>
public sealed class DeliveryFaultTests
{
    [Fact]
    public async Task Mail_queued_while_the_SMTP_server_is_down_is_all_delivered_once_it_is_back()
    {
        await using var smtp = new TestSmtpServer();
        await smtp.StopListeningAsync();
        await using var app = TestOutbox.StartApp(smtp, new() { ["Email:Delivery:MaxAttempts"] = "1000" });

        var recipients = await TestOutbox.EnqueueAsync(app, 10);
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL;") == 10,
            "every message has failed once against the closed port");
        Assert.Equal(10, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';"));

        smtp.StartListening();

        await smtp.WaitForCountAsync(10);
        Assert.Equal(recipients.Order(), smtp.Received.SelectMany(m => m.Recipients).Distinct().Order());
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == 10,
            "every row is marked sent");
    }

    [Fact]
    public async Task A_451_to_every_third_message_only_delays_it_and_every_message_is_delivered_once()
    {
        var refused = 0;
        await using var smtp = new TestSmtpServer
        {
            DataReply = n =>
            {
                if (n % 3 != 0)
                {
                    return Task.FromResult<string?>(null);
                }

                Interlocked.Increment(ref refused);
                return Task.FromResult<string?>("451 4.3.0 Try again later");
            },
        };
        await using var app = TestOutbox.StartApp(smtp);

        var recipients = await TestOutbox.EnqueueAsync(app, 30);

        await smtp.WaitForCountAsync(30);
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == 30,
            "every row is marked sent");
        Assert.Equal(recipients.Order(), smtp.Received.SelectMany(m => m.Recipients).Order());
        Assert.True(refused >= 10, $"a third of the attempts were refused ({refused})");
        Assert.Equal(30 + refused, await app.ScalarAsync<long>("SELECT SUM(attempts) FROM outbox;"));
    }

    [Fact]
    public async Task A_554_to_the_message_parks_it_as_dead_after_one_attempt_with_the_reply()
    {
        await using var smtp = new TestSmtpServer { DataReply = _ => Task.FromResult<string?>("554 5.7.1 Message rejected as spam") };
        await using var app = TestOutbox.StartApp(smtp);

        await TestOutbox.EnqueueAsync(app, 1);

        await Eventually.TrueAsync(async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "dead", "the message is dead");
        var row = (await app.QueryAsync<(long Attempts, string LastError)>("SELECT attempts, last_error FROM outbox;")).Single();
        Assert.Equal(1, row.Attempts);
        Assert.Contains("554", row.LastError);
        Assert.Contains("Message rejected as spam", row.LastError);
        Assert.Empty(smtp.Received);
    }

    [Fact]
    public async Task A_connection_dropped_in_the_middle_of_DATA_is_retried_on_a_new_connection()
    {
        await using var smtp = new TestSmtpServer { DropInData = n => n == 1 };
        await using var app = TestOutbox.StartApp(smtp);

        var recipients = await TestOutbox.EnqueueAsync(app, 1);

        var mail = await smtp.WaitForMailAsync(recipients[0]);
        await Eventually.TrueAsync(async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "sent", "the row is marked sent");
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT attempts FROM outbox;"));
        Assert.True(smtp.Connections >= 2, "the broken connection was replaced");
        Assert.Equal("Hello", mail.Subject);
    }

    [Fact]
    public async Task A_server_slower_than_the_timeout_is_given_up_on_and_the_message_retried()
    {
        var hung = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var smtp = new TestSmtpServer { DataReply = n => n == 1 ? hung.Task : Task.FromResult<string?>(null) };
        // A retry a second away keeps the failed attempt's record in view; it is read in one query with its count.
        await using var app = TestOutbox.StartApp(smtp, new()
        {
            ["Email:Smtp:Timeout"] = "00:00:00.300",
            ["Email:Delivery:InitialBackoff"] = "00:00:01",
            ["Email:Delivery:MaxBackoff"] = "00:00:01",
        });

        var recipients = await TestOutbox.EnqueueAsync(app, 1);

        string? error = null;
        await Eventually.TrueAsync(
            async () => (error = await app.ScalarAsync<string?>("SELECT last_error FROM outbox WHERE attempts = 1;")) is not null,
            "the attempt the server never answered is given up on");
        Assert.Contains("time", error, StringComparison.OrdinalIgnoreCase);
        Assert.False(hung.Task.IsCompleted, "the client stopped waiting while the server still hung");

        await smtp.WaitForMailAsync(recipients[0]);
        await Eventually.TrueAsync(async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "sent", "the retry is marked sent");
        hung.SetResult(null);
    }

    [Fact]
    public async Task Many_messages_share_the_configured_number_of_connections()
    {
        await using var smtp = new TestSmtpServer();
        await using var app = TestOutbox.StartApp(smtp, new() { ["Email:Delivery:Connections"] = "2", ["Email:Delivery:BatchSize"] = "10" });

        var recipients = await TestOutbox.EnqueueAsync(app, 50);

        await smtp.WaitForCountAsync(50);
        Assert.Equal(recipients.Order(), smtp.Received.SelectMany(m => m.Recipients).Order());
        Assert.InRange(smtp.Connections, 1, 2);
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND lease_until IS NULL;") == 50,
            "every row is marked sent and its lease cleared");
    }

    [Fact]
    public async Task A_send_in_progress_at_shutdown_finishes_and_is_recorded_as_sent()
    {
        var release = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inData = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var smtp = new TestSmtpServer
        {
            DataReply = _ =>
            {
                inData.TrySetResult();
                return release.Task;
            },
        };
        await using var app = TestOutbox.StartApp(smtp);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        // The server answers only once the host has begun to stop.
        lifetime.ApplicationStopping.Register(() => release.TrySetResult(null));

        await TestOutbox.EnqueueAsync(app, 1);
        await inData.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await app.StopAsync();

        Assert.Equal("sent", await app.ScalarAsync<string>("SELECT status FROM outbox;"));
        Assert.Single(smtp.Received);
    }

    [Fact]
    public async Task Messages_of_a_kind_nobody_composes_are_parked_as_dead()
    {
        await using var smtp = new TestSmtpServer();
        await using var app = TestOutbox.StartApp(smtp);

        await TestOutbox.EnqueueAsync(app, 1, kind: "unknown");

        await Eventually.TrueAsync(async () => await app.ScalarAsync<string>("SELECT status FROM outbox;") == "dead", "the message is dead");
        Assert.Contains("unknown", await app.ScalarAsync<string>("SELECT last_error FROM outbox;"));
    }

    [Theory]
    [InlineData(1, 10_000, 7_500, 12_500)]
    [InlineData(2, 20_000, 15_000, 25_000)]
    [InlineData(4, 80_000, 60_000, 100_000)]
    [InlineData(12, 3_600_000, 2_700_000, 3_600_000)]
    [InlineData(40, 3_600_000, 2_700_000, 3_600_000)]
    public void Backoff_doubles_from_the_initial_delay_up_to_the_maximum_with_jitter(int attempt, int nominalMs, int minMs, int maxMs)
    {
        var options = new DeliveryOptions { InitialBackoff = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromHours(1) };

        var delays = Enumerable.Range(0, 200).Select(_ => MessageSender.Backoff(attempt, options).TotalMilliseconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, minMs, maxMs));
        // At the maximum too: half the jittered delays fall below it.
        Assert.True(delays.Distinct().Count() > 1, "jitter spreads the retries");
        Assert.InRange(delays.Order().ElementAt(delays.Count / 2), nominalMs * 0.9, nominalMs * 1.1);
    }

    [Fact]
    public void A_built_message_is_not_kept_alive_by_the_sender_address()
    {
        var first = BuildAndForget();
        for (var i = 0; i < 10; i++)
        {
            BuildAndForget();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(first.IsAlive, "a sent message must be garbage once sent: a backlog of 100,000 would otherwise stay in memory");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference BuildAndForget() => new(MessageSender.Build(
        "Accounts", "accounts@example.test", new OutboxMessage(1, "greeting", ["a@example.com"], null, "en", 0, DateTimeOffset.UtcNow),
        new EmailContent("Hello", "Hello.", null)));
}
