using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SQLitePCL;

namespace Accounts.Api.Storage;

/// <summary>
/// The database on one SQLite file, for one instance. Reads open a pooled connection and run concurrently (WAL mode lets
/// readers proceed while a write is in progress). Writes go through <c>WriteAsync</c>:
/// one writer, so two writers never meet inside SQLite and Microsoft.Data.Sqlite's busy loop
/// (sleep 150 ms, retry) is never entered. Writes that arrive together share one transaction
/// (group commit): each runs in its own savepoint, so one failing rolls back alone, and every
/// caller is answered only after the shared COMMIT, so nothing is acknowledged before it is durable.
/// Checkpoints (copying the WAL into the database file, and its fsync) run on a connection of
/// their own shortly after commits, so a COMMIT costs only the WAL's fsync; the writer
/// checkpoints itself only when the WAL has grown past <see cref="WriterCheckpointFrames"/>.
/// </summary>
public sealed partial class SqliteDatabase : Database
{
    /// <summary>The most idle connections <see cref="Database.ReadAsync{T}"/> keeps open, each with its prepared statements.</summary>
    private static readonly int MaxIdleReaders = Math.Max(4, Environment.ProcessorCount * 4);

    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    public SqliteDatabase(IOptions<DatabaseOptions> options, IHostEnvironment environment, ILogger<SqliteDatabase> logger)
        : base(logger)
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
        // The writer's connection is its own, outside the pool: after a failed batch it is closed
        // for real (which rolls back whatever SQLite left open) and the next batch opens a new one.
        _writerConnectionString = new SqliteConnectionStringBuilder(ConnectionString) { Pooling = false }.ToString();
        FilePath = builder.DataSource;
        _writer = new Lazy<Task>(() => Task.Run(WriteLoopAsync));
        _checkpointer = new Lazy<Task>(() => Task.Run(CheckpointLoopAsync));
    }

    public string ConnectionString { get; }

    /// <summary>The database file's full path.</summary>
    public string FilePath { get; }

    public override string Location => FilePath;

    public override bool IsShared => false;

    public override int LatestSchemaVersion => Migrations.Sqlite.Count;

    protected override async Task<DbConnection> OpenCoreAsync(CancellationToken cancellationToken) =>
        await OpenSqliteAsync(cancellationToken);

    protected override DbConnection OpenCore()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    private async Task<SqliteConnection> OpenSqliteAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// The writer runs with <c>secure_delete</c>, so an erased row's bytes are zeroed in its pages;
    /// the WAL still holds earlier images of those pages until it is reset. A TRUNCATE checkpoint
    /// copies every frame into the database file and empties the WAL. It waits (the busy timeout)
    /// for readers and the writer in the way; when it cannot finish now, the next checkpoint that
    /// resets the WAL does it.
    /// </summary>
    public override async Task EraseFreedSpaceAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenSqliteAsync(cancellationToken);
        await connection.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    /// <summary>
    /// Turns on WAL and applies each pending script in its own transaction, moving <c>PRAGMA user_version</c>
    /// to its number. With nothing pending it writes nothing, so an app restarted on a database
    /// that cannot take writes now (a full disk, a read-only file) still starts, and answers 503.
    /// </summary>
    public override async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenSqliteAsync(cancellationToken);
        if (await connection.ExecuteScalarAsync<int>("PRAGMA user_version;") >= Migrations.Sqlite.Count)
        {
            return 0;
        }

        // WAL is a property of the file: set once, it stays.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        var applied = 0;
        while (true)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var version = await connection.ExecuteScalarAsync<int>("PRAGMA user_version;", transaction: transaction);
            if (version >= Migrations.Sqlite.Count)
            {
                return applied;
            }

            await connection.ExecuteAsync(Migrations.Sqlite[version], transaction: transaction);
            // PRAGMA takes no parameters; the value is our own integer.
            await connection.ExecuteAsync($"PRAGMA user_version = {version + 1};", transaction: transaction);
            await transaction.CommitAsync(cancellationToken);
            applied++;
        }
    }

    public override async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenSqliteAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>("PRAGMA user_version;");
    }

    /// <summary>Runs a read on one of the connections this class keeps open, so that their prepared statements survive.</summary>
    protected override async Task<T> ReadCoreAsync<T>(Func<DbSession, Task<T>> read, CancellationToken cancellationToken)
    {
        if (!_readers.TryTake(out var connection))
        {
            connection = await OpenSqliteAsync(cancellationToken);
        }

        T result;
        try
        {
            result = await read(new DbSession(connection, null));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        if (_readers.Count < MaxIdleReaders)
        {
            _readers.Add(connection);
        }
        else
        {
            await connection.DisposeAsync();
        }

        return result;
    }

    public override async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        if (_writer.IsValueCreated)
        {
            await _writer.Value;
        }

        await _disposing.CancelAsync();
        if (_checkpointer.IsValueCreated)
        {
            await _checkpointer.Value;
        }

        _disposing.Dispose();

        while (_readers.TryTake(out var reader))
        {
            await reader.DisposeAsync();
        }
    }
}
