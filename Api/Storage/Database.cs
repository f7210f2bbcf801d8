using System.Data;
using System.Data.Common;
using System.Diagnostics;
using Accounts.Api.Infrastructure;

namespace Accounts.Api.Storage;

/// <summary>
/// The one way into the database, whichever provider <c>Database:Provider</c> names:
/// <see cref="SqliteDatabase"/> (one instance, one file) or <see cref="PostgresDatabase"/> (any
/// number of instances on one server). A feature asks it for a session, a read
/// (<see cref="ReadAsync{T}"/>) or a write (<see cref="WriteAsync{T}(WriteNeeds, Func{DbSession, Task{T}}, CancellationToken)"/>),
/// and calls the stores the session exposes; it never sees a connection or a transaction. The SQL
/// they run is the same for both providers wherever it can be (see <see cref="DbSession"/> for
/// where it cannot).
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

    /// <summary>OpenTelemetry's <c>db.system.name</c>: <c>sqlite</c> or <c>postgresql</c>.</summary>
    private string SystemName => IsShared ? "postgresql" : "sqlite";

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

    /// <summary>A connection of its own, for <c>Storage/</c>'s machinery and the tests of it; features ask for a session.</summary>
    internal async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
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

    /// <summary>A read for a caller that cannot await (an observable gauge), on a connection opened for it.</summary>
    public T Read<T>(Func<DbSession, T> read)
    {
        try
        {
            using var connection = OpenCore();
            return read(new DbSession(connection, null));
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>
    /// Runs a read on a session it has to itself until it returns, outside any transaction (each
    /// statement sees what was committed when it ran). Statements run through
    /// <see cref="DbSession.ExecutePreparedAsync"/> and its kin stay prepared from one call to the next.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<DbSession, Task<T>> read, CancellationToken cancellationToken = default)
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
    /// Runs <paramref name="work"/> in a write transaction with <see cref="WriteNeeds.ReadsToHold"/>
    /// and returns once it has committed: whatever it read still holds when it commits, as if no
    /// other write ran at the same time.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<DbSession, Task<T>> work, CancellationToken cancellationToken = default) =>
        WriteAsync(WriteNeeds.ReadsToHold, work, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction that gives it what it
    /// <paramref name="needs"/>, and returns once it has committed. If <paramref name="work"/>
    /// throws, its changes are rolled back and the exception is rethrown here. <paramref name="work"/>
    /// may run more than once (PostgreSQL retries a transaction that lost a race), so it must only
    /// use the session it is given: no effect outside it, no waiting on anything else, and never a
    /// call to <c>WriteAsync</c> itself.
    /// <para>
    /// A write that fails with a storage fault throws <see cref="StorageUnavailableException"/>
    /// and has committed nothing.
    /// </para>
    /// </summary>
    public async Task<T> WriteAsync<T>(WriteNeeds needs, Func<DbSession, Task<T>> work, CancellationToken cancellationToken = default)
    {
        // SQLite, with its one writer, is serializable whatever is asked.
        var isolation = needs == WriteNeeds.KeysAndLocks ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable;
        // From the call to the commit, queueing for SQLite's writer and PostgreSQL's retries included.
        using var span = Telemetry.Source.StartActivity("db write", ActivityKind.Internal);
        span?.SetTag("db.system.name", SystemName);
        try
        {
            return await WriteCoreAsync(isolation, work, cancellationToken);
        }
        catch (Exception ex) when (StorageFaults.Classify(ex) is { } fault)
        {
            span?.SetStatus(ActivityStatusCode.Error, fault.Message);
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
                WriteNeeds.KeysAndLocks,
                session => session.ExecuteAsync("UPDATE storage_probe SET probes = probes + 1 WHERE id = 1;"),
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

    protected abstract Task<T> ReadCoreAsync<T>(Func<DbSession, Task<T>> read, CancellationToken cancellationToken);

    protected abstract Task<T> WriteCoreAsync<T>(IsolationLevel isolation, Func<DbSession, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// After an erasure: makes sure the erased rows' old bytes are gone from every file the
    /// database keeps (SQLite's WAL); nothing to do where the provider has no such copies to reach.
    /// </summary>
    public virtual Task EraseFreedSpaceAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

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
