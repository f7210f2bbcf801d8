using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Storage;

/// <summary>
/// The one way into SQLite. Reads open a pooled connection and run concurrently (WAL mode lets
/// readers proceed while a write is in progress). Writes go through <see cref="WriteAsync{T}"/>:
/// one in-process gate and <c>BEGIN IMMEDIATE</c>, so two writers never meet inside SQLite and
/// Microsoft.Data.Sqlite's busy loop (sleep 150 ms, retry) is never entered.
/// </summary>
public sealed class Database : IDisposable
{
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public Database(IOptions<DatabaseOptions> options, IHostEnvironment environment)
    {
        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString)
        {
            ForeignKeys = true,
            Pooling = true,
        };
        if (builder.Mode is SqliteOpenMode.ReadWriteCreate or SqliteOpenMode.ReadWrite
            && !string.IsNullOrEmpty(builder.DataSource)
            && builder.DataSource != ":memory:")
        {
            var path = Path.GetFullPath(builder.DataSource, environment.ContentRootPath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            builder.DataSource = path;
        }

        ConnectionString = builder.ToString();
        FilePath = builder.DataSource;
    }

    public string ConnectionString { get; }

    /// <summary>The database file's full path.</summary>
    public string FilePath { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and commits it. Writers queue on an
    /// in-process gate, so SQLite never reports the database as locked to this process.
    /// </summary>
    public async Task<T> WriteAsync<T>(
        Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            // Microsoft.Data.Sqlite begins non-deferred transactions with BEGIN IMMEDIATE.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(
                IsolationLevel.Serializable, cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose() => _writeGate.Dispose();
}
