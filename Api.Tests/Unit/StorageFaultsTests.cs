using System.Net.Sockets;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Accounts.Api.Tests.Unit;

/// <summary>Which provider exceptions are storage faults (503 with Retry-After) and which stay what they are.</summary>
public sealed class StorageFaultsTests
{
    [Theory]
    [InlineData(13, 13, "the disk is full")]            // SQLITE_FULL
    [InlineData(10, 10, "a disk I/O error")]            // SQLITE_IOERR
    [InlineData(10, 4874, "a disk I/O error")]          // SQLITE_IOERR_SHMSIZE: no room for a new connection's shared memory
    [InlineData(10, 1290, "a disk I/O error")]          // SQLITE_IOERR_FSYNC
    [InlineData(8, 8, "the database is read-only")]     // SQLITE_READONLY
    [InlineData(8, 1032, "the database is read-only")]  // SQLITE_READONLY_DBMOVED
    [InlineData(14, 14, "the database file cannot be opened")]
    [InlineData(5, 5, "the database is locked by another connection")]
    [InlineData(6, 6, "the database is locked by another connection")]
    [InlineData(11, 11, "the database file is damaged")]
    public void SQLite_errors_about_the_file_are_storage_faults(int code, int extended, string reason)
    {
        var exception = new SqliteException("SQLite Error", code, extended);

        var fault = StorageFaults.Classify(exception);

        Assert.NotNull(fault);
        Assert.Equal(reason, fault.Reason);
        Assert.Same(exception, fault.InnerException);
        Assert.Equal(StorageFaults.RetryAfter, fault.RetryAfter);
    }

    [Theory]
    [InlineData(19, 2067)] // SQLITE_CONSTRAINT_UNIQUE: a taken key is an answer (409), not an outage
    [InlineData(19, 787)]  // SQLITE_CONSTRAINT_FOREIGNKEY
    [InlineData(19, 275)]  // SQLITE_CONSTRAINT_CHECK
    [InlineData(1, 1)]     // SQLITE_ERROR: bad SQL, a missing table
    [InlineData(20, 20)]   // SQLITE_MISMATCH
    [InlineData(9, 9)]     // SQLITE_INTERRUPT
    [InlineData(21, 21)]   // SQLITE_MISUSE
    public void SQLite_errors_about_the_statement_or_the_data_are_not(int code, int extended)
    {
        Assert.Null(StorageFaults.Classify(new SqliteException("SQLite Error", code, extended)));
    }

    [Theory]
    [InlineData("53100", "the database server's disk is full")]
    [InlineData("53200", "the database server is out of memory")]
    [InlineData("53300", "the database server has too many connections")]
    [InlineData("53400", "the database server lacks resources")]
    [InlineData("57P01", "the database server is shutting down or starting")]
    [InlineData("57P02", "the database server is shutting down or starting")]
    [InlineData("57P03", "the database server is shutting down or starting")]
    [InlineData("08006", "the connection to the database server failed")]
    [InlineData("08001", "the connection to the database server failed")]
    [InlineData("25006", "the database server is read-only")]
    [InlineData("58030", "the database server had an I/O error")]
    [InlineData("40001", "the write conflicted with others on every retry")]
    [InlineData("40P01", "the write conflicted with others on every retry")]
    public void PostgreSQL_errors_about_the_server_are_storage_faults(string sqlState, string reason)
    {
        var fault = StorageFaults.Classify(new PostgresException("message", "FATAL", "FATAL", sqlState));

        Assert.Equal(reason, fault?.Reason);
    }

    [Theory]
    [InlineData("23505")] // unique_violation
    [InlineData("23503")] // foreign_key_violation
    [InlineData("23514")] // check_violation
    [InlineData("23502")] // not_null_violation
    [InlineData("22001")] // string_data_right_truncation
    [InlineData("22021")] // character_not_in_repertoire (a U+0000 in text)
    [InlineData("42P01")] // undefined_table
    [InlineData("42601")] // syntax_error
    [InlineData("57014")] // query_canceled
    [InlineData("28P01")] // invalid_password: a configuration error, not an outage
    public void PostgreSQL_errors_about_the_statement_the_data_or_the_setup_are_not(string sqlState)
    {
        Assert.Null(StorageFaults.Classify(new PostgresException("message", "ERROR", "ERROR", sqlState)));
    }

    [Fact]
    public void A_connection_Npgsql_cannot_make_or_keep_is_a_storage_fault()
    {
        var refused = new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused));
        var timedOut = new NpgsqlException("The connection pool has been exhausted", new TimeoutException());
        var reset = new NpgsqlException("Exception while reading from stream", new IOException("reset"));

        Assert.All(new[] { refused, timedOut, reset }, e => Assert.Equal("the database server cannot be reached", StorageFaults.Classify(e)?.Reason));
    }

    [Fact]
    public void Npgsql_errors_that_are_not_transient_are_not_storage_faults()
    {
        Assert.Null(StorageFaults.Classify(new NpgsqlException("Received backend message NoData while expecting ReadyForQuery")));
    }

    [Fact]
    public void A_fault_found_inside_another_exception_counts_and_a_cancellation_never_does()
    {
        var full = new SqliteException("database or disk is full", 13, 13);
        var refused = new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused));

        Assert.Equal("the disk is full", StorageFaults.Classify(new InvalidOperationException("wrapped", full))?.Reason);
        Assert.Null(StorageFaults.Classify(new OperationCanceledException("cancelled", refused)));
        Assert.Null(StorageFaults.Classify(new TaskCanceledException("cancelled", full)));
    }

    [Fact]
    public void A_storage_fault_is_itself_and_exceptions_from_elsewhere_are_no_storage_fault()
    {
        var fault = new StorageUnavailableException("the disk is full");

        Assert.Same(fault, StorageFaults.Classify(fault));
        // An I/O or socket error outside the database (the SMTP relay, a pickup file) is not the database's.
        Assert.Null(StorageFaults.Classify(new IOException("No space left on device")));
        Assert.Null(StorageFaults.Classify(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Null(StorageFaults.Classify(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void The_worker_waits_from_one_second_doubling_to_a_minute_with_jitter()
    {
        Assert.InRange(StorageBackoff.Delay(1).TotalSeconds, 0.8, 1.2);
        Assert.InRange(StorageBackoff.Delay(2).TotalSeconds, 1.6, 2.4);
        Assert.InRange(StorageBackoff.Delay(4).TotalSeconds, 6.4, 9.6);
        Assert.InRange(StorageBackoff.Delay(7).TotalSeconds, 48, 60);
        Assert.InRange(StorageBackoff.Delay(100).TotalSeconds, 48, 60);
    }
}
