using Microsoft.Data.Sqlite;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>
/// The database cannot serve the request now, for a reason outside the request and outside the
/// code: the disk is full, the file is read-only, damaged or failing, the server is unreachable or
/// shutting down, or a write lost its race to others on every retry. The same request may succeed
/// later, so callers answer "try again" (HTTP 503 with <c>Retry-After</c>) rather than "bug" (500).
/// Raised by <see cref="Database"/> in place of the provider's exception, which it carries as
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException()
        : this("the database is unavailable", null)
    {
    }

    public StorageUnavailableException(string reason)
        : this(reason, null)
    {
    }

    public StorageUnavailableException(string reason, Exception? innerException)
        : base($"The database cannot serve the request now: {reason}.", innerException)
    {
        Reason = reason;
    }

    /// <summary>What is wrong, in a few words for logs and health checks ("the disk is full"); never a secret.</summary>
    public string Reason { get; } = "the database is unavailable";

    /// <summary>How long a client should wait before it tries again.</summary>
    public TimeSpan RetryAfter => StorageFaults.RetryAfter;
}

/// <summary>
/// Which provider exceptions are storage faults (<see cref="StorageUnavailableException"/>) and
/// which are not. Not a fault: a constraint the data breaks (a unique key, a check), an error in
/// the SQL, a cancellation; those stay what they are, because trying again cannot help.
/// </summary>
public static class StorageFaults
{
    /// <summary>
    /// What a client is told to wait (<c>Retry-After</c>): long enough not to hammer a database
    /// that is down, short enough that a restart or failover (seconds) is bridged by one retry.
    /// Readiness looks at a failing database again at about this pace (<see cref="Database.ProbeInterval"/>).
    /// </summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The storage fault behind <paramref name="exception"/> (itself, or one of its inner
    /// exceptions), or null when it is none: then it must be handled (or reported) as it is.
    /// </summary>
    public static StorageUnavailableException? Classify(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case StorageUnavailableException unavailable:
                    return unavailable;
                case OperationCanceledException:
                    // Cancelled, whatever the provider said on its way out.
                    return null;
                case SqliteException sqlite:
                    return SqliteReason(sqlite) is { } reason ? new StorageUnavailableException(reason, sqlite) : null;
                case PostgresException postgres:
                    return PostgresReason(postgres.SqlState) is { } state ? new StorageUnavailableException(state, postgres) : null;
                case NpgsqlException { IsTransient: true } npgsql:
                    // Not an error from the server: the connection could not be made or broke
                    // (a socket error, a timeout, the pool exhausted).
                    return new StorageUnavailableException("the database server cannot be reached", npgsql);
                case NpgsqlException:
                    return null;
            }
        }

        return null;
    }

    /// <summary>SQLite's primary result codes (<c>SqliteErrorCode</c>; extended codes share the low byte) that say the file, not the statement, is the problem.</summary>
    internal static string? SqliteReason(SqliteException exception) => (exception.SqliteErrorCode & 0xFF) switch
    {
        13 => "the disk is full",                                 // SQLITE_FULL
        10 => "a disk I/O error",                                 // SQLITE_IOERR and its extended codes
        8 => "the database is read-only",                         // SQLITE_READONLY
        14 => "the database file cannot be opened",               // SQLITE_CANTOPEN
        3 => "access to the database file is denied",             // SQLITE_PERM
        5 or 6 => "the database is locked by another connection", // SQLITE_BUSY, SQLITE_LOCKED, after the busy timeout
        15 => "the database's file locks failed",                 // SQLITE_PROTOCOL
        7 => "out of memory",                                     // SQLITE_NOMEM
        11 or 26 => "the database file is damaged",               // SQLITE_CORRUPT, SQLITE_NOTADB: an operator must restore it
        _ => null,                                                // a constraint (19), an SQL error (1), a misuse (21), …
    };

    /// <summary>PostgreSQL SQLSTATEs that say the server, not the statement, is the problem.</summary>
    internal static string? PostgresReason(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.DiskFull => "the database server's disk is full",
        PostgresErrorCodes.OutOfMemory => "the database server is out of memory",
        PostgresErrorCodes.TooManyConnections => "the database server has too many connections",
        PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow =>
            "the database server is shutting down or starting",
        PostgresErrorCodes.ReadOnlySqlTransaction => "the database server is read-only",
        // Reached the caller only once every retry lost (PostgresDatabase runs such writes again).
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected =>
            "the write conflicted with others on every retry",
        _ when sqlState.StartsWith("08", StringComparison.Ordinal) => "the connection to the database server failed",
        _ when sqlState.StartsWith("53", StringComparison.Ordinal) => "the database server lacks resources",
        _ when sqlState.StartsWith("58", StringComparison.Ordinal) => "the database server had an I/O error",
        _ => null,
    };
}
