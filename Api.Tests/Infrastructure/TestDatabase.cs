using Dapper;
using Microsoft.Data.Sqlite;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>Reads an app's SQLite file in <c>directory</c> from the test, whether or not an app is running on it.</summary>
public sealed class TestDatabase(string path) : IAsyncDisposable
{
    public static TestDatabase Open(string directory) => new(Path.Combine(directory, "accounts.db"));

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>Deletes a test's folder, best effort.</summary>
    public static void Delete(string directory)
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temporary folders.
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
