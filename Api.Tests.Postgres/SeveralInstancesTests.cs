using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests;

/// <summary>Two instances of the real app on one PostgreSQL database: every mail once, limits shared, a dead instance's claims taken over.</summary>
public sealed class SeveralInstancesTests
{
    [Fact]
    public async Task A_thousand_registrations_spread_over_two_instances_send_every_mail_exactly_once()
    {
        const int count = 1000;
        await using var smtp = new TestSmtpServer();
        using var folder = new TemporaryDatabase("accounts-two-");
        var directory = folder.Directory;
        var settings = SmtpTo(smtp.Port);
        await using var first = TestApp.Start(smtp: null, settings, directory: directory);
        await using var second = TestApp.Start(smtp: null, settings, directory: directory);
        var apps = new[] { first, second };

        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var response = await apps[i % 2].RegisterAsync($"user{i}", $"user{i}@example.com");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
        await Eventually.TrueAsync(
            async () => await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == count,
            "every row is marked sent",
            TimeSpan.FromMinutes(2));
        // Stopping waits for sends in progress: a second copy still on its way would arrive now.
        await first.StopAsync();
        await second.StopAsync();

        var perAddress = smtp.Received.SelectMany(m => m.Recipients).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(count, perAddress.Count);
        Assert.All(perAddress, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(count, smtp.Received.Count);
        Assert.Equal(count, await TestStorage.ScalarAsync<long>(directory, "SELECT SUM(attempts) FROM outbox;"));
    }

    [Fact]
    public async Task An_instance_killed_mid_drain_leaves_its_claims_to_the_other_once_their_lease_ends()
    {
        const int count = 200;
        using var folder = new TemporaryDatabase("accounts-kill-");
        var directory = folder.Directory;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        // The first instance's server takes three mails, then holds every reply until after the
        // kill and refuses it: what that instance claimed can only reach anyone through the other.
        await using var doomedSmtp = new TestSmtpServer
        {
            DataReply = async n =>
            {
                if (n <= 3)
                {
                    return null;
                }

                Interlocked.Increment(ref held);
                await release.Task;
                return "421 4.4.2 Connection lost";
            },
        };
        await using var survivingSmtp = new TestSmtpServer();
        var survivor = await ApiProcess.StartServerAsync(directory, ProcessSettings(directory, survivingSmtp.Port));
        await using (survivor)
        {
            await using (var doomed = await ApiProcess.StartServerAsync(directory, ProcessSettings(directory, doomedSmtp.Port)))
            {
                using var toDoomed = new HttpClient { BaseAddress = doomed.BaseAddress };
                using var toSurvivor = new HttpClient { BaseAddress = survivor.BaseAddress };
                await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
                {
                    var response = await (i % 2 == 0 ? toDoomed : toSurvivor).PostAsJsonAsync("/register", new
                    {
                        username = $"user{i}",
                        email = $"user{i}@example.com",
                        password = TestData.StrongPassword,
                        confirmPassword = TestData.StrongPassword,
                    }, cancellationToken);
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                });

                await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref held) >= 1), "the doomed instance is mid-send", TimeSpan.FromSeconds(30));
                // A mail accepted but not yet recorded at the kill would rightly go out again (at
                // least once); kill only once what the doomed instance delivered is recorded, so
                // that every copy the count below finds is one the design promises not to send.
                var delivered = doomedSmtp.Received.Select(m => System.Text.Json.JsonSerializer.Serialize(m.Recipients)).ToArray();
                await Eventually.TrueAsync(
                    async () => await TestStorage.ScalarAsync<long>(
                        directory, "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND recipients = ANY(@Delivered);", new { Delivered = delivered })
                        == delivered.Length,
                    "the doomed instance has recorded what it delivered",
                    TimeSpan.FromSeconds(30));
                doomed.Kill();
            }

            Assert.True(
                await TestStorage.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND lease_until IS NOT NULL;") > 0,
                "the killed instance left claimed rows behind");
            release.SetResult();

            await Eventually.TrueAsync(
                async () => await TestStorage.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == count,
                "every row is marked sent",
                TimeSpan.FromSeconds(60));
        }

        // The survivor has stopped: nothing more is on its way.
        var received = doomedSmtp.Received.Concat(survivingSmtp.Received).SelectMany(m => m.Recipients).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"user{i}@example.com").Order(), received.Order());
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_instance_goes_out_once_its_lease_ends_and_not_before()
    {
        await using var smtp = new TestSmtpServer();
        using var folder = new TemporaryDatabase("accounts-lease-");
        var directory = folder.Directory;
        await using var first = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Email:Transport"] = "Log" }, directory: directory);
        await first.RegisterAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(async () => await first.ScalarAsync<string>("SELECT status FROM outbox;") == "sent", "the mail is sent");
        await first.StopAsync();
        // What a kill -9 in the middle of a send leaves behind: a pending row leased to a process that is gone.
        var leaseEnd = DateTimeOffset.UtcNow.AddSeconds(2);
        await first.ScalarAsync<long>(
            "UPDATE outbox SET status = 'pending', lease_until = @End, lease_owner = 'crashed' RETURNING id;",
            new { End = leaseEnd.ToUnixTimeMilliseconds() });

        await using var second = TestApp.Start(smtp: null, SmtpTo(smtp.Port), directory: directory);
        var mail = await smtp.WaitForMailAsync("alice@example.com", TimeSpan.FromSeconds(20));

        // In milliseconds, as the lease is stored: when the mail arrived, not when the wait returned
        // (a slow start of the second instance would make that later than the lease whatever it did).
        Assert.True(
            mail.ReceivedAt.ToUnixTimeMilliseconds() >= leaseEnd.ToUnixTimeMilliseconds(),
            $"the mail arrived at {mail.ReceivedAt:O}, while another instance's lease held until {leaseEnd:O}");
        Assert.Equal("activated", await (await second.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }

    [Fact]
    public async Task The_resend_cooldown_holds_across_instances_even_for_requests_at_the_same_moment()
    {
        await using var smtp = new TestSmtpServer();
        using var folder = new TemporaryDatabase("accounts-cooldown-");
        var directory = folder.Directory;
        await using var first = TestApp.Start(smtp: null, SmtpTo(smtp.Port), directory: directory);
        await using var second = TestApp.Start(smtp: null, SmtpTo(smtp.Port), directory: directory);
        await first.RegisterAsync("alice", "alice@example.com");
        await smtp.WaitForMailAsync("alice@example.com");

        // Within the cooldown of the registration mail: the other instance queues nothing.
        Assert.Equal(HttpStatusCode.Accepted, (await second.ResendActivationAsync("alice@example.com")).StatusCode);
        Assert.Equal(1, await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));

        // Past it, twenty requests at once over both instances queue exactly one mail.
        await first.ScalarAsync<long>(
            "UPDATE outbox SET created_at = @Then RETURNING id;", new { Then = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() });
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? first : second).ResendActivationAsync("alice@example.com")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(2, await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
    }

    [Fact]
    public async Task Failed_sign_ins_count_across_instances_and_lock_the_login_on_both()
    {
        using var folder = new TemporaryDatabase("accounts-throttle-");
        var directory = folder.Directory;
        await using var first = TestApp.Start(smtp: null, directory: directory);
        await using var second = TestApp.Start(smtp: null, directory: directory);

        // Login:MaxFailures is 5: four at the same moment over both instances, each one counted.
        var failures = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => (i % 2 == 0 ? first : second).LoginAsync("mallory", "not the password")));
        Assert.All(failures, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.Equal(4, await first.ScalarAsync<long>("SELECT failures FROM login_failures;"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await first.LoginAsync("mallory", "not the password")).StatusCode);
        var locked = await second.LoginAsync("mallory", "not the password");

        await locked.ProblemAsync(429, "too_many_attempts");
    }

    [Fact]
    public async Task An_account_made_on_one_instance_activates_signs_in_and_is_served_on_the_other()
    {
        await using var smtp = new TestSmtpServer();
        using var folder = new TemporaryDatabase("accounts-across-");
        var directory = folder.Directory;
        // Both share the folder's key ring (DataProtection:KeysDirectory), as instances behind one balancer must.
        await using var first = TestApp.Start(smtp: null, SmtpTo(smtp.Port), directory: directory);
        await using var second = TestApp.Start(smtp: null, SmtpTo(smtp.Port), directory: directory);
        await first.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        Assert.Equal("activated", await (await second.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
        var login = await first.Client.PostAsJsonAsync("/login", new { login = "alice", password = TestData.StrongPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("accessToken").GetString();
        using var me = new HttpRequestMessage(HttpMethod.Get, "/me");
        me.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var profile = await second.Client.SendAsync(me);

        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal("active", (await profile.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("status").GetString());
    }

    private static Dictionary<string, string?> SmtpTo(int port) => new()
    {
        ["Email:Transport"] = "Smtp",
        ["Email:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, string?> ProcessSettings(string directory, int smtpPort)
    {
        var settings = TestSettings.Defaults(directory, smtpPort);
        // Short, so the test need not wait a minute for the dead instance's claims; a refused send comes round again soon.
        settings["Email:Delivery:Lease"] = "00:00:02";
        settings["Email:Delivery:InitialBackoff"] = "00:00:00.200";
        return settings;
    }
}
