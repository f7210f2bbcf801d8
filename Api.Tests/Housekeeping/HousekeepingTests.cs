using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Housekeeping;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Housekeeping;

/// <summary>The data lifecycle over HTTP, with real mail and an injected clock (nothing sleeps): on SQLite here, on PostgreSQL in Api.Tests.Postgres.</summary>
public sealed class HousekeepingTests
{
    private static readonly Dictionary<string, string?> Hourly = new() { ["Housekeeping:Interval"] = "01:00:00" };

    [Fact]
    public async Task On_its_interval_housekeeping_deletes_each_kind_of_row_once_it_has_outlived_its_use_and_frees_a_never_activated_accounts_names()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, Hourly, time);
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var runs = new MetricCollector<long>(meters, Housekeeper.MeterName, "accounts.housekeeping.runs");
        using var deleted = new MetricCollector<long>(meters, Housekeeper.MeterName, "accounts.housekeeping.deleted");
        await app.SignedInAccountAsync("alice", "alice@example.com");
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("bob", "bob@example.com")).StatusCode);
        var bobsLink = await smtp.WaitForMailAsync("bob@example.com");
        await app.LoginAsync("nobody", "a guess");
        await app.Client.PostAsJsonAsync("/activate", new { email = "nobody@example.com", code = "123456" });
        await Eventually.TrueAsync(async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == 2, "both mails are sent");

        // Two hours on: the sign-in failure is past Login:FailureWindow; nothing else is old enough.
        time.Advance(TimeSpan.FromHours(2));
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM login_failures;"));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM code_failures;"));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens;"));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users WHERE username = 'bob';"));

        // Eight days on: past Accounts:PendingAccountLifetime and Email:Delivery:Retention (7 days), and
        // a day past every link's expiry.
        time.Advance(TimeSpan.FromDays(8));
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal(["alice"], await app.QueryAsync<string>("SELECT username FROM users;"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens;"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM code_failures;"));
        Assert.All(runs.GetMeasurementSnapshot(), m => Assert.Equal("done", m.Tags["outcome"]));
        var byRule = deleted.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["housekeeping.rule"]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(1, byRule["sign_in_failures"]);
        Assert.Equal(1, byRule["pending_accounts"]);
        Assert.Equal(2, byRule["tokens"]);
        Assert.Equal(1, byRule["code_tries"]);
        Assert.Equal(2, byRule["mails"]); // both activation mails, past retention (the mail rule runs before the account rule)

        // Bob's old link, deleted a day after it expired, is not valid any more; and his names are free.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(TestApp.PathOf(bobsLink.Link))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("bob", "bob@example.com")).StatusCode);
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf((await smtp.WaitForMailAsync("bob@example.com")).Link))).StatusAsync());
    }

    [Fact]
    public async Task A_used_link_is_kept_until_it_expires_so_it_answers_already_active_and_an_expired_one_answers_expired_for_a_day()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, Hourly, time);
        var (_, activation) = await app.SignedInAccountAsync("alice", "alice@example.com");
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("bob", "bob@example.com")).StatusCode);
        var bobs = await smtp.WaitForMailAsync("bob@example.com");

        time.Advance(TimeSpan.FromHours(23));
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal("already_active", await (await app.Client.GetAsync(TestApp.PathOf(activation.Link))).StatusAsync());

        time.Advance(TimeSpan.FromHours(2)); // bob's link expired an hour ago
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal(HttpStatusCode.Gone, (await app.Client.GetAsync(TestApp.PathOf(bobs.Link))).StatusCode);

        time.Advance(TimeSpan.FromDays(1)); // a day past expiry: both links are deleted
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens;"));
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(TestApp.PathOf(bobs.Link))).StatusCode);
    }

    [Fact]
    public async Task The_resend_cooldown_still_holds_after_housekeeping_has_run()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>(Hourly)
        {
            ["Activation:ResendCooldown"] = "02:00:00",
            ["Email:Delivery:Retention"] = "02:00:01",
        }, time);
        await app.RegisterAsync("bob", "bob@example.com");
        await smtp.WaitForMailAsync("bob@example.com");

        time.Advance(TimeSpan.FromMinutes(119)); // runs at minute 1 and 61
        await RunAtCurrentTimeAsync(app, time);
        Assert.Equal(HttpStatusCode.Accepted, (await app.ResendActivationAsync("bob@example.com")).StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;")); // inside the cooldown: no second mail

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Accepted, (await app.ResendActivationAsync("bob@example.com")).StatusCode);
        await smtp.WaitForMailAsync("bob@example.com");
    }

    [Fact]
    public async Task A_purge_racing_activations_of_the_same_accounts_leaves_each_either_active_or_wholly_gone()
    {
        const int accounts = 20;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        for (var i = 0; i < accounts; i++)
        {
            await app.RegisterAsync($"racer{i}", $"racer{i}@example.com");
        }

        await smtp.WaitForCountAsync(accounts);
        // Near the end of their lifetime each asks for a fresh link, then the lifetime passes: links live, accounts due.
        time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromHours(1));
        for (var i = 0; i < accounts; i++)
        {
            await app.ResendActivationAsync($"racer{i}@example.com");
        }

        var links = new List<Uri>();
        for (var i = 0; i < accounts; i++)
        {
            await smtp.WaitForMailAsync($"racer{i}@example.com");
            links.Add((await smtp.WaitForMailAsync($"racer{i}@example.com")).Link);
        }

        time.Advance(TimeSpan.FromHours(2));
        var housekeeper = app.Services.GetRequiredService<Housekeeper>();
        var purge = Task.Run(() => housekeeper.RunAsync());
        var answers = await Task.WhenAll(links.Select(async link => await app.Client.GetAsync(TestApp.PathOf(link))));
        var result = await purge;

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Gone }));
        var active = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        Assert.Equal(accounts - active, result!.PendingAccounts);
        Assert.Equal(active, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE status = 'active';"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE status = 'pending_activation';"));
        // Nothing half-deleted: no mail left of an erased account.
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE user_id NOT IN (SELECT id FROM users);"));
        foreach (var answer in answers)
        {
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("activated", await answer.StatusAsync());
            }
            else
            {
                await answer.ProblemAsync(410, "token_expired");
            }
        }
    }

    /// <summary>Waits until a housekeeping run that began at the clock's present time has completed.</summary>
    private static Task RunAtCurrentTimeAsync(TestApp app, FakeTimeProvider time)
    {
        var housekeeper = app.Services.GetRequiredService<Housekeeper>();
        var now = time.GetUtcNow();
        return Eventually.TrueAsync(() => Task.FromResult(housekeeper.LastRunTime >= now), $"a housekeeping run at {now:O}", TimeSpan.FromSeconds(20));
    }
}
