namespace Accounts.Api.Tests.Infrastructure;

/// <summary>Reads the database behind <c>directory</c> from the test, whether or not an app is running on it.</summary>
public sealed class TestDatabase(string directory) : IAsyncDisposable
{
    public static TestDatabase Open(string directory) => new(directory);

    public Task<T> ScalarAsync<T>(string sql, object? parameters = null) => TestStorage.ScalarAsync<T>(directory, sql, parameters);

    /// <summary>Deletes a test's folder and its database, best effort.</summary>
    public static void Delete(string directory) => TestStorage.Delete(directory);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
