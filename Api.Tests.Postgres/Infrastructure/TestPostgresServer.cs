using Npgsql;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the suite runs against, one per test run. <c>ACCOUNTS_TEST_POSTGRES</c>,
/// when set, names a server of one's own (a connection string with the right to create
/// databases); otherwise a throwaway server is made with the installed binaries (Debian's
/// <c>postgresql</c> package: <c>initdb</c>, <c>pg_ctl</c>) in a temporary folder, on a free
/// loopback port, and removed when the test process ends. Each test gets a database of its own.
/// </summary>
public static class TestPostgresServer
{
    public const string ConnectionVariable = "ACCOUNTS_TEST_POSTGRES";

    private static readonly Lazy<string> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to the server's <c>postgres</c> database, as a role that may create databases.</summary>
    public static string AdminConnectionString => Instance.Value;

    /// <summary>A connection string to <paramref name="database"/> on the server.</summary>
    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    public static Task CreateDatabaseAsync(string database) => AdministerAsync($"CREATE DATABASE \"{database}\";");

    /// <summary>Drops the database, ending whatever connections are still open on it.</summary>
    public static Task DropDatabaseAsync(string database) => AdministerAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE);");

    private static async Task AdministerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        if (ThrowawayPostgres.FindBinaries() is null)
        {
            throw new InvalidOperationException(
                "The PostgreSQL tests need a server: install Debian's postgresql package (apt-get install postgresql; .ci/run does) "
                + $"or set {ConnectionVariable} to a connection string of your own.");
        }

        // A test server: nothing in it must survive a crash, so it never waits for the disk.
        var throwaway = ThrowawayPostgres.Start(durable: false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => throwaway.DisposeInBackground();
        return throwaway.ConnectionString;
    }
}
