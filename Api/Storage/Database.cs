using System.Data;
using System.Data.Common;
using System.Diagnostics;
using Dapper;

namespace Accounts.Api.Storage;

/// <summary>
/// The one way into the database, whichever provider <c>Database:Provider</c> names:
/// <see cref="SqliteDatabase"/> (one instance, one file) or <see cref="PostgresDatabase"/> (any
/// number of instances on one server). Stores read through <see cref="OpenAsync"/> or
/// <see cref="ReadAsync{T}"/> and write through <see cref="WriteAsync{T}(Func{IDbConnection, IDbTransaction, Task{T}}, CancellationToken)"/>;
/// the SQL they run is the same for both providers wherever it can be (see <see cref="SqlDialect"/>
/// for where it cannot).
/// <para>
/// A storage fault (a full disk, a read-only or failing file, an unreachable server: see
/// <see cref="StorageFaults"/>) comes out of these methods as a <see cref="StorageUnavailableException"/>,
/// never as the provider's own exception. A write that fails so marks the database as not writable
/// (<see cref="WriteFault"/>) until a write succeeds again; <see cref="ProbeWritesAsync"/> lets
/// readiness find out when that is, with no other traffic.
/// </para>
/// </summary>
public abstract partial class Database(ILogger logger) : IAsyncDisposable
{
    /// <summary>How often, at most, <see cref="ProbeWritesAsync"/> tries a write while writes are failing.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A fault that comes and goes (on a full disk a small write may get through between failing
    /// big ones) is logged as a warning at most this often; the other changes at Debug.
    /// </summary>
    private static readonly TimeSpan LoudChangesEvery = TimeSpan.FromMinutes(1);

    private readonly Lock _state = new();
    private StorageUnavailableException? _writeFault;
    private long _faultStarted;
    private long _lastWriteTry;
    private long _lastLoudFault;
    private TaskCompletionSource _writable = Completed();

    /// <summary>Where the data lives, for logs: a file path or a server and database name, never a password.</summary>
    public abstract string Location { get; }

    /// <summary>
    /// True when other instances may use the same database at the same time. Then nothing may
    /// assume that a lease or a row no other request touches belongs to this process.
    /// </summary>
    public abstract bool IsShared { get; }

    /// <summary>The schema version this build expects.</summary>
    public abstract int LatestSchemaVersion { get; }

    /// <summary>Why the last write failed with a storage fault, while no write has succeeded since; null when writes succeed.</summary>
    public StorageUnavailableException? WriteFault
    {
        get
        {
            lock (_state)
            {
                return _writeFault;
            }
        }
    }

    /// <summary>Completes at once when writes succeed, otherwise when one succeeds again.</summary>
    public Task WhenWritable
    {
        get
        {
            lock (_state)
            {
                return _writable.Task;
            }
        }
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await OpenCoreAsync(cancellationToken);
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>A connection opened synchronously, for callers that cannot await (an observable gauge).</summary>
    public DbConnection Open()
    {
        try
        {
            return OpenCore();
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>
    /// Runs a read on a connection it has to itself until it returns. Statements run through
    /// <see cref="PreparedStatements.Prepared"/> stay prepared from one call to the next.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadCoreAsync(read, cancellationToken);
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a serializable write transaction and returns once it has
    /// committed: whatever it read still holds when it commits, as if no other write ran at the
    /// same time. If <paramref name="work"/> throws, its changes are rolled back and the exception
    /// is rethrown here. <paramref name="work"/> may run more than once (PostgreSQL retries a
    /// transaction that lost a race), so it must only use the connection it is given: no effect
    /// outside it, no waiting on anything else, and never a call to <c>WriteAsync</c> itself.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken = default) =>
        WriteAsync(IsolationLevel.Serializable, work, cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync{T}(Func{IDbConnection, IDbTransaction, Task{T}}, CancellationToken)"/>
    /// with a weaker isolation where the work needs none stronger. Work whose every decision rests
    /// on a single statement (a queue claim with <c>SKIP LOCKED</c>, an atomic upsert, an update
    /// by id), on a unique key, or on a row it locked first (<see cref="SqlDialect.ForUpdate"/>)
    /// takes <see cref="IsolationLevel.ReadCommitted"/>: PostgreSQL's serializable isolation
    /// also aborts transactions that merely touched the same index pages, and on a hot path those
    /// retries cost more than they protect. SQLite, with its one writer, is serializable whatever is asked.
    /// <para>
    /// A write that fails with a storage fault throws <see cref="StorageUnavailableException"/>
    /// and has committed nothing.
    /// </para>
    /// </summary>
    public async Task<T> WriteAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken = default)
    {
        try
        {
            return await WriteCoreAsync(isolation, work, cancellationToken);
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            WriteFailed(fault);
            throw fault;
        }
    }

    /// <summary>
    /// Whether the database takes writes. When the last write failed with a storage fault, and the
    /// last try is older than <see cref="ProbeInterval"/>, a small write is tried first (one row of
    /// <c>storage_probe</c> rewritten), so that readiness sees a recovery with no other traffic.
    /// </summary>
    public async Task<bool> ProbeWritesAsync(CancellationToken cancellationToken = default)
    {
        lock (_state)
        {
            if (_writeFault is null)
            {
                return true;
            }

            if (Stopwatch.GetElapsedTime(_lastWriteTry) < ProbeInterval)
            {
                return false;
            }

            _lastWriteTry = Stopwatch.GetTimestamp();
        }

        try
        {
            await WriteAsync(
                IsolationLevel.ReadCommitted,
                (connection, transaction) => connection.ExecuteAsync(
                    "UPDATE storage_probe SET probes = probes + 1 WHERE id = 1;", transaction: transaction),
                cancellationToken);
            return WriteFault is null;
        }
        catch (StorageUnavailableException)
        {
            return false;
        }
    }

    /// <summary>
    /// The provider calls this once a write has reached the disk (SQLite: a commit that changed
    /// something; a commit that changed nothing proves nothing about a full disk).
    /// </summary>
    protected void WriteSucceeded()
    {
        TaskCompletionSource writable;
        TimeSpan lasted;
        LogLevel level;
        lock (_state)
        {
            if (_writeFault is null)
            {
                return;
            }

            _writeFault = null;
            lasted = Stopwatch.GetElapsedTime(_faultStarted);
            writable = _writable;
            level = _lastLoudFault == _faultStarted ? LogLevel.Information : LogLevel.Debug;
        }

        LogWritableAgain(level, Location, lasted);
        writable.TrySetResult();
    }

    private void WriteFailed(StorageUnavailableException fault)
    {
        LogLevel level;
        lock (_state)
        {
            _lastWriteTry = Stopwatch.GetTimestamp();
            if (_writeFault is not null)
            {
                _writeFault = fault;
                return;
            }

            _writeFault = fault;
            _faultStarted = _lastWriteTry;
            _writable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            level = _lastLoudFault != 0 && Stopwatch.GetElapsedTime(_lastLoudFault) < LoudChangesEvery ? LogLevel.Debug : LogLevel.Warning;
            if (level == LogLevel.Warning)
            {
                _lastLoudFault = _faultStarted;
            }
        }

        LogNotWritable(level, fault.InnerException ?? fault, Location, fault.Reason);
    }

    private static TaskCompletionSource Completed()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    protected abstract Task<DbConnection> OpenCoreAsync(CancellationToken cancellationToken);

    protected abstract DbConnection OpenCore();

    protected abstract Task<T> ReadCoreAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken);

    protected abstract Task<T> WriteCoreAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>Creates what is missing and applies pending migrations; returns how many ran.</summary>
    public abstract Task<int> MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>The schema version the database is at.</summary>
    public abstract Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();

    [LoggerMessage(Message = "The database {Location} cannot take writes ({Reason}); writes answer 503 and readiness fails until one succeeds")]
    private partial void LogNotWritable(LogLevel level, Exception exception, string location, string reason);

    [LoggerMessage(Message = "The database {Location} takes writes again, after {Duration}")]
    private partial void LogWritableAgain(LogLevel level, string location, TimeSpan duration);
}
