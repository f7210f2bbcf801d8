using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Storage;

/// <summary>
/// The SQLite file on a real filesystem that fills up or is read-only (<see cref="TestMount"/>:
/// Linux and root, skipped otherwise): requests get 503 with <c>Retry-After</c>, readiness fails,
/// delivery pauses quietly, everything resumes by itself, and nothing acknowledged is lost.
/// </summary>
public sealed class StorageFaultTests
{
    private static readonly string DeliveryCategory = typeof(EmailDeliveryService).FullName!;

    [MountFact]
    public async Task A_batch_that_cannot_commit_on_a_full_disk_fails_every_write_in_it_commits_none_and_the_writer_commits_again_once_there_is_room()
    {
        await using var disk = await TestMount.TmpfsAsync("4m");
        await using var database = new SqliteDatabase(
            Options.Create(new DatabaseOptions { ConnectionString = $"Data Source={Path.Combine(disk.Directory, "test.db")}" }),
            new TestHostEnvironment(disk.Directory),
            NullLogger<SqliteDatabase>.Instance);
        await using (var setup = await database.OpenAsync())
        {
            await setup.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }

        await database.WriteAsync(s => s.ExecuteAsync(
            "CREATE TABLE item (name TEXT NOT NULL UNIQUE, payload BLOB NOT NULL); INSERT INTO item VALUES ('before', randomblob(100));"));

        // Hold the writer so that the next writes queue up and share one transaction, then take
        // the disk's last byte: 40 rows of 64 KiB cannot fit, whatever room the WAL has left.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = database.WriteAsync(async session =>
        {
            await release.Task;
            return await session.ExecuteAsync("INSERT INTO item VALUES ('held', randomblob(100));");
        });
        var writes = Enumerable.Range(0, 40).Select(i => database.WriteAsync(s => s.ExecuteAsync(
            "INSERT INTO item VALUES (@Name, randomblob(65536));", new { Name = $"item{i}" }))).ToArray();
        Assert.True(disk.Fill() > 0);
        release.SetResult();

        var held = await Record.ExceptionAsync(() => holding);
        foreach (var write in writes)
        {
            var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => write);
            Assert.Equal("the disk is full", failure.Reason);
        }

        Assert.Equal("the disk is full", database.WriteFault?.Reason);
        Assert.False(await database.ProbeWritesAsync());

        disk.Unfill();
        Assert.Equal(1, await database.WriteAsync(s => s.ExecuteAsync("INSERT INTO item VALUES ('after', randomblob(100));")));

        Assert.Null(database.WriteFault);
        Assert.True(database.WhenWritable.IsCompletedSuccessfully);
        await using var reader = await database.OpenAsync();
        var names = (await reader.QueryAsync<string>("SELECT name FROM item ORDER BY rowid;")).ToArray();
        Assert.Equal(held is null ? ["before", "held", "after"] : ["before", "after"], names);
    }

    [MountFact]
    public async Task A_full_disk_answers_503_with_Retry_After_fails_readiness_pauses_delivery_quietly_and_everything_resumes_once_there_is_room()
    {
        await using var disk = await TestMount.TmpfsAsync("4m");
        var path = Path.Combine(disk.Directory, "accounts.db");
        var logs = new CapturedLogs();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The SMTP server holds the first two mails (one per connection) until the disk is full,
        // so the worker has outcomes to record, and more mails to compose, while it is.
        await using var smtp = new TestSmtpServer
        {
            DataReply = async n =>
            {
                if (n <= 2)
                {
                    if (n == 2)
                    {
                        holding.TrySetResult();
                    }

                    await release.Task;
                }

                return null;
            },
        };
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={path}",
            ["Logging:LogLevel:Accounts.Api.Email"] = "Debug",
        }, services: s => s.AddSingleton<ILoggerProvider>(logs));
        try
        {
            var accepted = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync($"early{i}", $"early{i}@example.com")).StatusCode);
                accepted.Add($"early{i}");
            }

            await holding.Task.WaitAsync(TimeSpan.FromSeconds(10));

            // A reader keeps its snapshot of the WAL: SQLite cannot start the WAL over, so every
            // write needs new room, as it does once a disk is full of data for good (otherwise an
            // update that fits in checkpointed pages can still get through a full disk).
            await using var pin = new SqliteConnection($"Data Source={path};Pooling=False");
            await pin.OpenAsync();
            await using var snapshot = pin.BeginTransaction(deferred: true);
            await pin.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users;", transaction: snapshot);
            Assert.True(disk.Fill() > 0);

            // Registrations go on until the disk refuses them: each answer is a 202 or a 503, never a 500.
            var refused = new List<string>();
            for (var i = 0; i < 500 && refused.Count < 5; i++)
            {
                var name = $"late{i}";
                var response = await app.RegisterAsync(name, $"{name}@example.com");
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add(name);
                }
                else
                {
                    await response.StorageUnavailableAsync();
                    refused.Add(name);
                }
            }

            Assert.Equal(5, refused.Count);
            var ready = await app.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var database = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("database");
            Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
            Assert.False(database.GetProperty("writable").GetBoolean());
            Assert.Equal("the disk is full", database.GetProperty("reason").GetString());

            // The held mails go out; recording them, and composing the others, needs room.
            release.SetResult();
            await Eventually.TrueAsync(
                () => Task.FromResult(logs.Entries.Count(e => e.Category == DeliveryCategory && e.Level == LogLevel.Debug
                    && e.Message.StartsWith("The database cannot take writes", StringComparison.Ordinal)) >= 3),
                "the worker has failed once and tried again twice, backing off",
                TimeSpan.FromSeconds(30));
            var complaints = logs.Entries.Where(e => e.Category == DeliveryCategory && e.Level >= LogLevel.Warning).ToList();
            Assert.True(complaints.Count == 1, "one warning while the disk is full:\n" + string.Join('\n', complaints));

            // Room again: everything resumes with nothing but the next request.
            await snapshot.RollbackAsync();
            await pin.CloseAsync();
            disk.Unfill();
            Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("after", "after@example.com")).StatusCode);
            accepted.Add("after");
            var readyAgain = JsonDocument.Parse(await app.Client.GetStringAsync("/health/ready")).RootElement;
            Assert.Equal("Healthy", readyAgain.GetProperty("status").GetString());

            // Every acknowledged account is there and mailed once; no refused one is, or was.
            foreach (var name in accepted)
            {
                var mail = await smtp.WaitForMailAsync($"{name}@example.com", TimeSpan.FromSeconds(30));
                Assert.Contains("/activate?token=", mail.Link.ToString(), StringComparison.Ordinal);
            }

            await Eventually.TrueAsync(
                async () => await ScalarAsync<long>(path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending';") == 0,
                "every mail is marked sent",
                TimeSpan.FromSeconds(30));
            var users = await QueryAsync<string>(path, "SELECT username FROM users;");
            Assert.Equal(accepted.Order(), users.Order());
            Assert.Equal(accepted.Count, smtp.Received.Count);
            Assert.Contains(logs.Entries, e => e.Category == DeliveryCategory && e.Message.StartsWith("Delivery resumed", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error && e.Category.StartsWith("Accounts.Api", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Diagnostics", StringComparison.Ordinal));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [MountFact]
    public async Task A_database_its_filesystem_serves_read_only_answers_503_fails_readiness_and_takes_writes_once_it_is_writable_again()
    {
        using var folder = new TemporaryDatabase("accounts-readonly-");
        var path = Path.Combine(folder.Directory, "accounts.db");
        await using var smtp = new TestSmtpServer();
        var settings = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={path}",
            ["Email:Transport"] = "Smtp",
            ["Email:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using (var first = TestApp.Start(smtp: null, settings))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await first.RegisterAsync("alice", "alice@example.com")).StatusCode);
        }

        // A connection kept open, as by a process that crashed or still runs, keeps the WAL and
        // shared-memory files, which SQLite needs to read a WAL database it cannot write.
        await using var holder = new SqliteConnection($"Data Source={path};Pooling=False");
        await holder.OpenAsync();
        await holder.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users;");
        await using var view = await TestMount.BindAsync(folder.Directory, readOnly: true);
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(view.Directory, "accounts.db")}",
        });

        await (await app.RegisterAsync("bob", "bob@example.com")).StorageUnavailableAsync();
        var login = await app.Client.PostAsJsonAsync("/login", new { login = "alice", password = "not the password at all" });
        await login.StorageUnavailableAsync();
        var ready = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var database = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("database");
        Assert.False(database.GetProperty("writable").GetBoolean());
        Assert.Equal("the database is read-only", database.GetProperty("reason").GetString());

        await view.MakeWritableAsync();

        await Eventually.TrueAsync(
            async () => (await app.Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
            "readiness sees the database take writes again",
            TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("bob", "bob@example.com")).StatusCode);
        await smtp.WaitForMailAsync("bob@example.com");
        await smtp.WaitForMailAsync("alice@example.com", TimeSpan.FromSeconds(30));
        Assert.Equal(["alice", "bob"], (await QueryAsync<string>(path, "SELECT username FROM users;")).Order());
    }

    private static async Task<IReadOnlyList<T>> QueryAsync<T>(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        return [.. await connection.QueryAsync<T>(sql)];
    }

    private static async Task<T> ScalarAsync<T>(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }
}
