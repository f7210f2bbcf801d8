#if POSTGRES
using System.Collections.Concurrent;
#endif
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The database behind a test's folder. The suite is compiled twice: in Api.Tests every app runs
/// on a SQLite file in its folder; in Api.Tests.Postgres (symbol <c>POSTGRES</c>) the same tests
/// run on a PostgreSQL database of their own, named for the folder, on
/// <see cref="TestPostgresServer"/>. A second app started on the same folder finds the same data.
/// </summary>
public static class TestStorage
{
#if POSTGRES
    public const string Provider = "Postgres";
#else
    public const string Provider = "Sqlite";
#endif

#if POSTGRES
    private static readonly ConcurrentDictionary<string, string> Databases = new();
#endif

    public static bool IsPostgres => Provider == "Postgres";

    /// <summary>The <c>Database:*</c> settings of an app on <paramref name="directory"/>'s database, creating it when new.</summary>
    public static Dictionary<string, string?> Settings(string directory) => new()
    {
        ["Database:Provider"] = Provider,
        ["Database:ConnectionString"] = ConnectionString(directory),
    };

    public static string ConnectionString(string directory)
    {
        if (!IsPostgres)
        {
            return $"Data Source={Path.Combine(directory, "accounts.db")}";
        }
#if POSTGRES
        var name = Databases.GetOrAdd(Path.GetFullPath(directory), _ =>
        {
            var database = $"accounts_test_{Guid.NewGuid():N}";
            TestPostgresServer.CreateDatabaseAsync(database).GetAwaiter().GetResult();
            return database;
        });
        return TestPostgresServer.ConnectionStringFor(name);
#else
        throw new InvalidOperationException("Only the PostgreSQL build has a server.");
#endif
    }

    /// <summary>A connection of the test's own to the folder's database, outside any pool.</summary>
    public static async Task<DbConnection> OpenAsync(string directory)
    {
        DbConnection connection = IsPostgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString(directory)) { Pooling = false }.ConnectionString)
            : new SqliteConnection($"Data Source={Path.Combine(directory, "accounts.db")};Pooling=False");
        await connection.OpenAsync();
        return connection;
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(string directory, string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync(directory);
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }

    public static async Task<T> ScalarAsync<T>(string directory, string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync(directory);
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>Runs a statement on the folder's database through a connection of the test's own; returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(string directory, string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync(directory);
        return await connection.ExecuteAsync(sql, parameters);
    }

    /// <summary>Takes the database away under a running app: its next query fails.</summary>
    public static async Task DestroyAsync(string directory)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(directory, "accounts.db*"))
        {
            File.Delete(file);
        }
#if POSTGRES
        if (Databases.TryGetValue(Path.GetFullPath(directory), out var name))
        {
            await TestPostgresServer.DropDatabaseAsync(name);
        }
#else
        await Task.CompletedTask;
#endif
    }

    /// <summary>Lets go of pooled connections to the folder's database, as a stopped app would.</summary>
    public static void ReleaseConnections() => SqliteConnection.ClearAllPools();

    /// <summary>Deletes a test's folder and its database, best effort.</summary>
    public static void Delete(string directory)
    {
        SqliteConnection.ClearAllPools();
#if POSTGRES
        if (Databases.TryRemove(Path.GetFullPath(directory), out var name))
        {
            try
            {
                TestPostgresServer.DropDatabaseAsync(name).GetAwaiter().GetResult();
            }
            catch (NpgsqlException)
            {
                // The server goes at the end of the run, and every database with it.
            }
        }
#endif
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temporary folders.
        }
    }
}
