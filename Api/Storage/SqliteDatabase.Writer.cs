using System.Diagnostics;
using System.Data;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Accounts.Api.Storage;

/// <summary>
/// The one writer of <see cref="SqliteDatabase"/>: group commit, savepoints, failed batches, and
/// the checkpoints that run beside it.
/// </summary>
public sealed partial class SqliteDatabase
{
    /// <summary>The most writes one transaction takes; the rest wait for the next.</summary>
    private const int MaxBatch = 256;

    /// <summary>
    /// SQLite's own checkpoint after a commit, on the writer's path, only past this many WAL frames
    /// (about 40 MB): under a sustained stream of writes the background checkpoints may not catch up.
    /// </summary>
    private const int WriterCheckpointFrames = 10_000;

    /// <summary>How long the checkpointer lets commits gather before one checkpoint copies them all.</summary>
    private static readonly TimeSpan CheckpointDelay = TimeSpan.FromMilliseconds(200);

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


    /// <summary>
    /// Queues <paramref name="work"/> for the one writer; writes batched with it are unaffected
    /// when it fails. Every write is serializable here, whatever <paramref name="isolation"/> asks.
    /// </summary>
    protected override async Task<T> WriteCoreAsync<T>(
        IsolationLevel isolation, Func<DbSession, Task<T>> work, CancellationToken cancellationToken)
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
            // mode, NORMAL would let the last commits before a power cut be lost. secure_delete zeroes
            // what a delete frees, so an erased account's bytes do not stay in the file's free space.
            await connection.ExecuteAsync($"PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = {WriterCheckpointFrames};");
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

    private interface IWrite
    {
        bool IsCancelled { get; }

        /// <summary>What the work threw, its changes rolled back to its savepoint; null when it succeeded.</summary>
        Exception? Failure { get; }

        Task RunAsync(SqliteConnection connection, SqliteTransaction transaction);

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<DbSession, Task<T>> work, CancellationToken cancellationToken) : IWrite
    {
        private const string Savepoint = "write";

        /// <summary>The caller's span (its <c>db write</c>), current again while the work runs in the writer's loop.</summary>
        private readonly Activity? _span = Activity.Current;
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
                // Set for this call only: an async method's changes to Activity.Current end with it.
                Activity.Current = _span;
                _result = await work(new DbSession(connection, transaction));
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
