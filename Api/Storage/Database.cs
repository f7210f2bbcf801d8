using System.Data;
using System.Data.Common;

namespace Accounts.Api.Storage;

/// <summary>
/// The one way into the database, whichever provider <c>Database:Provider</c> names:
/// <see cref="SqliteDatabase"/> (one instance, one file) or <see cref="PostgresDatabase"/> (any
/// number of instances on one server). Stores read through <see cref="OpenAsync"/> or
/// <see cref="ReadAsync{T}"/> and write through <see cref="WriteAsync{T}(Func{IDbConnection, IDbTransaction, Task{T}}, CancellationToken)"/>;
/// the SQL they run is the same for both providers wherever it can be (see <see cref="SqlDialect"/>
/// for where it cannot).
/// </summary>
public abstract class Database : IAsyncDisposable
{
    /// <summary>Where the data lives, for logs: a file path or a server and database name, never a password.</summary>
    public abstract string Location { get; }

    /// <summary>
    /// True when other instances may use the same database at the same time. Then nothing may
    /// assume that a lease or a row no other request touches belongs to this process.
    /// </summary>
    public abstract bool IsShared { get; }

    /// <summary>The schema version this build expects.</summary>
    public abstract int LatestSchemaVersion { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>A connection opened synchronously, for callers that cannot await (an observable gauge).</summary>
    public abstract DbConnection Open();

    /// <summary>
    /// Runs a read on a connection it has to itself until it returns. Statements run through
    /// <see cref="PreparedStatements.Prepared"/> stay prepared from one call to the next.
    /// </summary>
    public abstract Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken = default);

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
    /// </summary>
    public abstract Task<T> WriteAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken = default);

    /// <summary>Creates what is missing and applies pending migrations; returns how many ran.</summary>
    public abstract Task<int> MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>The schema version the database is at.</summary>
    public abstract Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
