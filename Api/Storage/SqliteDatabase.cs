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
public sealed class SqliteDatabase : Database
{
    /// <summary>The most writes one transaction takes; the rest wait for the next.</summary>
    private const int MaxBatch = 256;

    /// <summary>The most idle connections <see cref="Database.ReadAsync{T}"/> keeps open, each with its prepared statements.</summary>
    private static readonly int MaxIdleReaders = Math.Max(4, Environment.ProcessorCount * 4);

    /// <summary>
    /// SQLite's own checkpoint after a commit, on the writer's path, only past this many WAL frames
    /// (about 40 MB): under a sustained stream of writes the background checkpoints may not catch up.
    /// </summary>
    private const int WriterCheckpointFrames = 10_000;

    /// <summary>How long the checkpointer lets commits gather before one checkpoint copies them all.</summary>
    private static readonly TimeSpan CheckpointDelay = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    private readonly Channel<bool> _committed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly CancellationTokenSource _disposing = new();
    private readonly Lazy<Task> _checkpointer;

    private readonly Channel<IWrite> _writes = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<Task> _writer;
    private readonly string _writerConnectionString;

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
    protected override async Task<T> ReadCoreAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        if (!_readers.TryTake(out var connection))
        {
            connection = await OpenSqliteAsync(cancellationToken);
        }

        T result;
        try
        {
            result = await read(connection);
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

    /// <summary>
    /// Queues <paramref name="work"/> for the one writer; writes batched with it are unaffected
    /// when it fails. Every write is serializable here, whatever <paramref name="isolation"/> asks.
    /// </summary>
    protected override async Task<T> WriteCoreAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var write = new Write<T>(work, cancellationToken);
        _ = _writer.Value;
        _ = _checkpointer.Value;
        await _writes.Writer.WriteAsync(write, cancellationToken);
        return await write.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The one writer. A batch that fails as a whole (BEGIN, COMMIT, a savepoint, or SQLite rolling
    /// the transaction back by itself, as it may on SQLITE_FULL or an I/O error) fails every write
    /// in it with that exception, and none of them is committed: the connection is closed, which
    /// rolls back whatever was left open, and the next batch opens a new one (so does a batch in
    /// which one write met a storage fault on its own). So nothing is acknowledged that is not
    /// durable, nothing unacknowledged is committed, and a writer that met a full disk or a
    /// read-only file commits again once there is room or the file is writable.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<IWrite>(MaxBatch);
        SqliteConnection? connection = null;
        while (await _writes.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write))
            {
                if (!write.IsCancelled)
                {
                    batch.Add(write);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            SqliteTransaction? transaction = null;
            var retire = true;
            try
            {
                connection ??= await OpenWriterAsync();
                var changesBefore = raw.sqlite3_total_changes(connection.Handle);
                transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable);
                foreach (var write in batch)
                {
                    await write.RunAsync(connection, transaction);
                }

                await transaction.CommitAsync();
                var changed = raw.sqlite3_total_changes(connection.Handle) != changesBefore;
                _committed.Writer.TryWrite(true);
                foreach (var write in batch)
                {
                    write.Complete();
                }

                if (changed)
                {
                    WriteSucceeded();
                }

                // A write that met a storage fault on its own (on a connection SQLite opened
                // read-only, say) retires the connection too: the next one may find the file writable.
                retire = batch.Any(w => w.Failure is { } failure && StorageFaults.Classify(failure) is not null);
            }
            catch (Exception ex)
            {
                foreach (var write in batch)
                {
                    write.Fail(ex);
                }
            }

            if (retire)
            {
                await CloseQuietlyAsync(transaction, connection);
                connection = null;
            }
            else
            {
                transaction?.Dispose();
            }

            batch.Clear();
        }

        await CloseQuietlyAsync(null, connection);
    }

    private async Task<SqliteConnection> OpenWriterAsync()
    {
        var connection = new SqliteConnection(_writerConnectionString);
        try
        {
            await connection.OpenAsync();
            // FULL is SQLite's default; said here because an acknowledged write rests on it: in WAL
            // mode, NORMAL would let the last commits before a power cut be lost.
            await connection.ExecuteAsync($"PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WriterCheckpointFrames};");
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the writer's connection after a failure; what SQLite left of the transaction is rolled back with it.</summary>
    private static async Task CloseQuietlyAsync(SqliteTransaction? transaction, SqliteConnection? connection)
    {
        try
        {
            transaction?.Dispose();
        }
        catch (SqliteException)
        {
            // The transaction is gone already (SQLite rolled it back), or goes with the connection below.
        }

        try
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
        catch (SqliteException)
        {
            // Nothing more to do: the handle is released either way.
        }
    }

    /// <summary>True while the connection is inside a transaction: SQLite may end one by itself after some errors.</summary>
    private static bool InTransaction(SqliteConnection connection) => raw.sqlite3_get_autocommit(connection.Handle) == 0;

    /// <summary>
    /// Copies committed WAL frames into the database file, off the writer's path. PASSIVE waits for
    /// nobody and takes no lock a writer needs; whatever it cannot copy now, the next one does.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        try
        {
            while (await _committed.Reader.WaitToReadAsync(_disposing.Token))
            {
                await Task.Delay(CheckpointDelay, _disposing.Token);
                _committed.Reader.TryRead(out _);
                try
                {
                    await using var connection = await OpenSqliteAsync(_disposing.Token);
                    await connection.ExecuteAsync("PRAGMA wal_checkpoint(PASSIVE);");
                }
                catch (SqliteException)
                {
                    // Not fatal: the next commit asks again, and the writer checkpoints itself past WriterCheckpointFrames.
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            // Disposing: the last connection to close checkpoints anyway.
        }
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

    private interface IWrite
    {
        bool IsCancelled { get; }

        /// <summary>What the work threw, its changes rolled back to its savepoint; null when it succeeded.</summary>
        Exception? Failure { get; }

        Task RunAsync(SqliteConnection connection, SqliteTransaction transaction);

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken) : IWrite
    {
        private const string Savepoint = "write";
        private T? _result;
        private Exception? _failure;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsCancelled => cancellationToken.IsCancellationRequested;

        public Exception? Failure => _failure;

        public async Task RunAsync(SqliteConnection connection, SqliteTransaction transaction)
        {
            // The same statements as SqliteTransaction.Save, Release and Rollback(name), kept prepared: every write runs them.
            connection.Prepared(transaction, $"SAVEPOINT {Savepoint};").ExecuteNonQuery();
            try
            {
                _result = await work(connection, transaction);
            }
            catch (Exception ex) when (InTransaction(connection))
            {
                connection.Prepared(transaction, $"ROLLBACK TO {Savepoint};").ExecuteNonQuery();
                connection.Prepared(transaction, $"RELEASE {Savepoint};").ExecuteNonQuery();
                _failure = ex;
                return;
            }

            // Otherwise SQLite rolled the whole transaction back (SQLITE_FULL, an I/O error): the
            // exception fails the batch, since every write in it was lost with the transaction.
            if (!InTransaction(connection))
            {
                throw new InvalidOperationException("The batch's transaction ended inside a write that did not fail.");
            }

            connection.Prepared(transaction, $"RELEASE {Savepoint};").ExecuteNonQuery();
        }

        public void Complete()
        {
            if (_failure is null)
            {
                Completion.TrySetResult(_result!);
            }
            else
            {
                Completion.TrySetException(_failure);
            }
        }

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
