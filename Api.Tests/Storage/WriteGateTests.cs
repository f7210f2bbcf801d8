using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Accounts.Api.Tests.Storage;

public sealed class WriteGateTests : IDisposable
{
    private readonly TemporaryDatabase _folder = new("accounts-gate-");

    [Fact]
    public async Task Writers_take_turns_so_SQLite_never_sees_two_at_once()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync(s => s.ExecuteAsync("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);"));
        var inside = 0;
        var most = 0;

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => database.WriteAsync(async session =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            var n = await session.ScalarAsync<long>("SELECT n FROM counter;");
            await Task.Yield();
            await session.ExecuteAsync("UPDATE counter SET n = @N;", new { N = n + 1 });
            Interlocked.Decrement(ref inside);
            return n;
        }))));

        Assert.Equal(1, most);
        await using var reader = await database.OpenAsync();
        Assert.Equal(40, await reader.ExecuteScalarAsync<long>("SELECT n FROM counter;"));
    }

    [Fact]
    public async Task A_failed_write_rolls_back_and_releases_the_gate()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync(s => s.ExecuteAsync("CREATE TABLE item (name TEXT NOT NULL UNIQUE);"));

        await Assert.ThrowsAsync<SqliteException>(() => database.WriteAsync(async session =>
        {
            await session.ExecuteAsync("INSERT INTO item VALUES ('a');");
            return await session.ExecuteAsync("INSERT INTO item VALUES ('a');");
        }));
        var written = await database.WriteAsync(s => s.ExecuteAsync("INSERT INTO item VALUES ('b');"));

        Assert.Equal(1, written);
        await using var reader = await database.OpenAsync();
        Assert.Equal(["b"], (await reader.QueryAsync<string>("SELECT name FROM item;")).ToArray());
    }

    [Fact]
    public async Task Writes_committed_together_keep_their_own_outcome_when_some_fail()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync(s => s.ExecuteAsync("CREATE TABLE item (name TEXT NOT NULL UNIQUE); INSERT INTO item VALUES ('taken');"));

        // Hold the writer so that the next writes queue up and share one transaction.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = database.WriteAsync(async session =>
        {
            await release.Task;
            return await session.ExecuteAsync("INSERT INTO item VALUES ('first');");
        });
        var writes = Enumerable.Range(0, 40).Select(i => database.WriteAsync(async session =>
        {
            await session.ExecuteAsync("INSERT INTO item VALUES (@Name);", new { Name = $"item{i}" });
            if (i % 5 == 0)
            {
                // Half done, then a unique violation: this write's own row must not survive.
                await session.ExecuteAsync("INSERT INTO item VALUES ('taken');");
            }

            return i;
        })).ToArray();
        release.SetResult();
        await holding;

        for (var i = 0; i < writes.Length; i++)
        {
            if (i % 5 == 0)
            {
                await Assert.ThrowsAsync<SqliteException>(() => writes[i]);
            }
            else
            {
                Assert.Equal(i, await writes[i]);
            }
        }

        await using var reader = await database.OpenAsync();
        var names = (await reader.QueryAsync<string>("SELECT name FROM item;")).ToHashSet();
        var expected = Enumerable.Range(0, 40).Where(i => i % 5 != 0).Select(i => $"item{i}").Append("taken").Append("first").ToHashSet();
        Assert.Equal(expected, names);
    }

    [Fact]
    public async Task Commits_are_checkpointed_into_the_database_file_off_the_writer_s_path()
    {
        await using var database = CreateDatabase();
        await using (var setup = await database.OpenAsync())
        {
            await setup.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }

        // About 250 pages: far below the writer's own checkpoint threshold, so only the background
        // checkpointer moves them from the WAL into the database file.
        await database.WriteAsync(s => s.ExecuteAsync(
            "CREATE TABLE blob (b BLOB NOT NULL); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) INSERT INTO blob SELECT randomblob(4000) FROM n;"));
        var file = new FileInfo(database.FilePath);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (file.Length < 250 * 4000)
        {
            await Task.Delay(20, timeout.Token);
            file.Refresh();
        }

        await using var reader = await database.OpenAsync();
        Assert.Equal(250, await reader.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM blob;"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private SqliteDatabase CreateDatabase() => _folder.CreateSqlite();

    public void Dispose() => _folder.Dispose();
}
