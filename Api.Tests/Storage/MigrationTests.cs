using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Accounts.Api.Tests.Storage;

public sealed class MigrationTests : IDisposable
{
    private readonly TemporaryDatabase _folder = new("accounts-migrations-");

    [Fact]
    public async Task Migrations_create_the_schema_once_and_do_nothing_the_second_time()
    {
        await using var database = CreateDatabase();

        var first = await Migrations.ApplyAsync(database);
        var second = await Migrations.ApplyAsync(database);

        Assert.Equal(database.LatestSchemaVersion, first);
        Assert.Equal(0, second);
        await using var connection = await database.OpenAsync();
        Assert.Equal(database.LatestSchemaVersion, await connection.ExecuteScalarAsync<int>("PRAGMA user_version;"));
        Assert.Equal(["account_tokens", "code_failures", "login_failures", "outbox", "refresh_tokens", "sessions", "storage_probe", "users"],
            (await connection.QueryAsync<string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name;")).ToArray());
    }

    [Fact]
    public async Task The_database_runs_in_WAL_mode_with_foreign_keys_enforced()
    {
        await using var database = CreateDatabase();
        await Migrations.ApplyAsync(database);
        await using var connection = await database.OpenAsync();

        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode;"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA foreign_keys;"));
        // FULL (2): a commit is on disk before any caller is answered, power cut included.
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous;"));
        var orphan = await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync(
            "INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES (x'00', 'nobody', 'activation', 0, 0);"));
        Assert.Equal(19, orphan.SqliteErrorCode); // SQLITE_CONSTRAINT
    }

    [Fact]
    public async Task Type_handlers_round_trip_guids_times_and_dates()
    {
        await using var database = CreateDatabase();
        await using var connection = await database.OpenAsync();
        var id = Guid.NewGuid();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var day = new DateOnly(1990, 5, 17);

        var row = await connection.QuerySingleAsync<(Guid Id, DateTimeOffset At, DateOnly Day, string IdText, long AtNumber)>(
            "SELECT @Id, @At, @Day, @Id, @At;", new { Id = id, At = at, Day = day });

        Assert.Equal((id, at, day), (row.Id, row.At, row.Day));
        Assert.Equal(id.ToString("D"), row.IdText);
        Assert.Equal(1_700_000_000_123, row.AtNumber);
    }

    private SqliteDatabase CreateDatabase()
    {
        TypeHandlers.Register();
        return _folder.CreateSqlite();
    }

    public void Dispose() => _folder.Dispose();
}
