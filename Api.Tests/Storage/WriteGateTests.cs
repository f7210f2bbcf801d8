using Accounts.Api.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Storage;

public sealed class WriteGateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accounts-gate-").FullName;

    [Fact]
    public async Task Writers_take_turns_so_SQLite_never_sees_two_at_once()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync((c, t) => c.ExecuteAsync("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);", transaction: t));
        var inside = 0;
        var most = 0;

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => database.WriteAsync(async (connection, transaction) =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            var n = await connection.ExecuteScalarAsync<long>("SELECT n FROM counter;", transaction: transaction);
            await Task.Yield();
            await connection.ExecuteAsync("UPDATE counter SET n = @N;", new { N = n + 1 }, transaction);
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
        await database.WriteAsync((c, t) => c.ExecuteAsync("CREATE TABLE item (name TEXT NOT NULL UNIQUE);", transaction: t));

        await Assert.ThrowsAsync<SqliteException>(() => database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("INSERT INTO item VALUES ('a');", transaction: transaction);
            return await connection.ExecuteAsync("INSERT INTO item VALUES ('a');", transaction: transaction);
        }));
        var written = await database.WriteAsync((c, t) => c.ExecuteAsync("INSERT INTO item VALUES ('b');", transaction: t));

        Assert.Equal(1, written);
        await using var reader = await database.OpenAsync();
        Assert.Equal(["b"], (await reader.QueryAsync<string>("SELECT name FROM item;")).ToArray());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private Database CreateDatabase()
    {
        var options = Options.Create(new DatabaseOptions { ConnectionString = $"Data Source={Path.Combine(_directory, "gate.db")}" });
        return new Database(options, new TestHostEnvironment(_directory));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>An <see cref="IHostEnvironment"/> rooted at a test folder.</summary>
public sealed class TestHostEnvironment(string root) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Testing";

    public string ApplicationName { get; set; } = "Api";

    public string ContentRootPath { get; set; } = root;

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
