using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Accounts.Api.Tests.Storage;

public sealed class PreparedStatementsTests : IDisposable
{
    private readonly TemporaryDatabase _folder = new("accounts-prepared-");

    [Fact]
    public async Task One_SQL_text_is_prepared_once_per_connection_and_runs_with_each_call_s_values()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync(s => s.ExecuteAsync("CREATE TABLE item (name TEXT NOT NULL, n INTEGER NULL);"));
        const string insert = "INSERT INTO item (name, n) VALUES (@Name, @N);";

        var commands = await database.WriteAsync(session => Task.FromResult(new[]
        {
            Run(session, "a", 1),
            Run(session, "b", null),
        }));

        Assert.Same(commands[0], commands[1]);
        await using var reader = await database.OpenAsync();
        Assert.Equal(["a:1", "b:"], (await reader.QueryAsync<string>("SELECT name || ':' || IFNULL(n, '') FROM item ORDER BY name;")).ToArray());

        static System.Data.Common.DbCommand Run(DbSession session, string name, long? n)
        {
            var command = session.Connection.Prepared(session.Transaction, insert, ("@Name", name), ("@N", n));
            command.ExecuteNonQuery();
            return command;
        }
    }

    [Fact]
    public async Task Reads_reuse_the_connections_they_were_given_and_see_committed_writes()
    {
        await using var database = CreateDatabase();
        await database.WriteAsync(s => s.ExecuteAsync("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (1);"));
        const string select = "SELECT n FROM counter;";

        var first = await database.ReadAsync(s => Task.FromResult((s.Connection, N: (long)s.Connection.Prepared(null, select).ExecuteScalar()!)));
        await database.WriteAsync(s => s.ExecuteAsync("UPDATE counter SET n = 2;"));
        var second = await database.ReadAsync(s => Task.FromResult((s.Connection, N: (long)s.Connection.Prepared(null, select).ExecuteScalar()!)));

        Assert.Same(first.Connection, second.Connection);
        Assert.Equal((1L, 2L), (first.N, second.N));
    }

    private SqliteDatabase CreateDatabase() => _folder.CreateSqlite();

    public void Dispose() => _folder.Dispose();
}
