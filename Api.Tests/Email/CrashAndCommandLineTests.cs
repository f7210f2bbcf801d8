using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Email;

/// <summary>The built API as a child process: killed mid-drain, and its outbox command line.</summary>
public sealed class CrashAndCommandLineTests
{
    [Fact]
    public async Task A_process_killed_mid_drain_delivers_every_committed_mail_after_the_restart()
    {
        const int count = 20;
        using var folder = new TemporaryDatabase("accounts-crash-");
        var directory = folder.Directory;
        var restarted = false;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        // The first five go through; then the server holds every reply until after the kill, and
        // refuses what the dead process left hanging, so only the restarted one can deliver it.
        await using var smtp = new TestSmtpServer
        {
            DataReply = async n =>
            {
                if (Volatile.Read(ref restarted) || n <= 5)
                {
                    return null;
                }

                Interlocked.Increment(ref held);
                await release.Task;
                return "421 4.4.2 Connection lost";
            },
        };
        var settings = TestSettings.Defaults(directory, smtp.Port);
        if (TestStorage.IsPostgres)
        {
            // On a shared database the restarted process cannot tell the dead one's claims from
            // another live instance's: they come back when their lease ends, so keep it short.
            settings["Email:Delivery:Lease"] = "00:00:02";
        }

        var emails = Enumerable.Range(1, count).Select(i => $"user{i}@example.com").ToArray();

        await using (var first = await ApiProcess.StartServerAsync(directory, settings))
        {
            using var client = new HttpClient { BaseAddress = first.BaseAddress };
            foreach (var (email, i) in emails.Select((e, i) => (e, i)))
            {
                var response = await client.PostAsJsonAsync("/register", new
                {
                    username = $"user{i + 1}",
                    email,
                    password = TestData.StrongPassword,
                    confirmPassword = TestData.StrongPassword,
                });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref held) >= 1), "a send is in flight", TimeSpan.FromSeconds(30));
            first.Kill();
        }

        Assert.Equal(count, await TestStorage.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox;"));
        Assert.True(await TestStorage.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE status = 'pending';") > 0, "the kill left work undone");
        Volatile.Write(ref restarted, true);
        release.SetResult();

        await using var second = await ApiProcess.StartServerAsync(directory, settings);

        await Eventually.TrueAsync(
            () => Task.FromResult(emails.All(e => smtp.Received.Any(m => m.Recipients.Contains(e)))),
            "every registered address has its mail",
            TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(
            async () => await TestStorage.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE status = 'sent';") == count,
            "every row is marked sent");
    }

    [Fact]
    public async Task The_command_line_lists_dead_mail_and_queues_it_again()
    {
        await using var refusing = new TestSmtpServer { DataReply = _ => Task.FromResult<string?>("554 5.7.1 Rejected for policy") };
        await using var first = TestOutbox.StartApp(refusing);
        var recipients = await TestOutbox.EnqueueAsync(first, 2);
        await Eventually.TrueAsync(
            async () => await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'dead';") == 2, "both are dead");
        await first.StopAsync();
        var settings = TestSettings.Defaults(first.Directory, refusing.Port);

        var (listed, list) = await ApiProcess.RunAsync(first.Directory, settings, "outbox", "list", "--dead");
        var (retried, retry) = await ApiProcess.RunAsync(first.Directory, settings, "outbox", "retry", "--all-dead");

        Assert.True(listed == 0, list);
        Assert.Contains("554 to", list);
        Assert.Contains(recipients[0], list);
        Assert.Contains("2 message(s) dead.", list);
        Assert.True(retried == 0, retry);
        Assert.StartsWith("2 dead message(s) queued again", retry);
        Assert.Equal(2, await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND attempts = 0;"));

        await using var smtp = new TestSmtpServer();
        await using var second = TestApp.Start(
            smtp, directory: first.Directory, services: TestOutbox.AddGreetings);
        await smtp.WaitForCountAsync(2);
        Assert.Equal(recipients.Order(), smtp.Received.SelectMany(m => m.Recipients).Order());
    }

    [Fact]
    public async Task The_command_line_purges_dead_mail_one_by_id_then_the_rest_and_leaves_other_rows()
    {
        await using var refusing = new TestSmtpServer { DataReply = _ => Task.FromResult<string?>("554 5.7.1 Rejected for policy") };
        await using var first = TestOutbox.StartApp(refusing);
        await TestOutbox.EnqueueAsync(first, 3);
        await Eventually.TrueAsync(
            async () => await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'dead';") == 3, "all three are dead");
        await first.StopAsync();
        await first.ExecuteAsync("UPDATE outbox SET status = 'sent' WHERE id = (SELECT MAX(id) FROM outbox);");
        var oldest = await first.ScalarAsync<long>("SELECT MIN(id) FROM outbox;");
        var settings = TestSettings.Defaults(first.Directory, refusing.Port);

        var (one, oneOutput) = await ApiProcess.RunAsync(first.Directory, settings, "outbox", "purge", "--dead", oldest.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(one == 0, oneOutput);
        Assert.StartsWith("1 dead message(s) deleted.", oneOutput);
        Assert.Equal(0, await first.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE id = @oldest;", new { oldest }));

        var (rest, restOutput) = await ApiProcess.RunAsync(first.Directory, settings, "outbox", "purge", "--dead");
        Assert.True(rest == 0, restOutput);
        Assert.StartsWith("1 dead message(s) deleted.", restOutput);
        Assert.Equal(["sent"], await first.QueryAsync<string>("SELECT status FROM outbox;"));
    }

    [Fact]
    public async Task An_unknown_outbox_command_prints_the_usage_and_fails()
    {
        using var folder = new TemporaryDatabase("accounts-cli-");

        var (exitCode, output) = await ApiProcess.RunAsync(folder.Directory, TestSettings.Defaults(folder.Directory, 25), "outbox", "resend", "everything");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage:", output);
    }
}
