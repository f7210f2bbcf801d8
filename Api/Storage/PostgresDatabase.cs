using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>
/// The database on a PostgreSQL server, shared by any number of instances. Every read and write
/// takes a connection from Npgsql's pool and writes run concurrently, each in its own
/// transaction. A write that loses a race to another (SQLSTATE 40001, a deadlock, or a unique
/// key inserted meanwhile) rolls back and runs again, a few times, so a serializable write has
/// the same guarantee as under SQLite's single writer: what it read still holds when it commits.
/// A connection found broken before anything was committed (the server restarted since the pool
/// opened it) is dropped with the rest of the pool's idle ones and the work runs again on a new
/// one; a connection lost during COMMIT is not retried, since the commit may have happened.
/// </summary>
public sealed partial class PostgresDatabase : Database
{
    /// <summary>How many times a write that lost a race runs in all before its failure reaches the caller.</summary>
    internal const int MaxAttempts = 10;

    /// <summary>How many times a read or write runs in all when its connection turns out to be broken.</summary>
    private const int MaxConnectionAttempts = 3;

    /// <summary>The advisory lock the migrations hold, so instances starting together migrate one after the other.</summary>
    private const long MigrationLock = 0x6163636f756e7473; // "accounts"

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PostgresDatabase> _logger;

    public PostgresDatabase(IOptions<DatabaseOptions> options, ILogger<PostgresDatabase> logger)
        : base(logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            // Statements run often are prepared on the server once per physical connection.
            builder.MaxAutoPrepare = 64;
        }

        _dataSource = NpgsqlDataSource.Create(builder);
        _logger = logger;
        Location = $"postgres://{builder.Host}:{builder.Port}/{builder.Database}";
    }

    public override string Location { get; }

    public override bool IsShared => true;

    public override int LatestSchemaVersion => Migrations.Postgres.Count;

    protected override async Task<DbConnection> OpenCoreAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override DbConnection OpenCore() => _dataSource.OpenConnection();

    protected override async Task<T> ReadCoreAsync<T>(Func<DbSession, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                return await read(new DbSession(connection, null));
            }
            catch (NpgsqlException ex) when (attempt < MaxConnectionAttempts && IsBrokenConnection(ex))
            {
                Reconnect(attempt, ex);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 1 << Math.Min(attempt + 1, 6))), cancellationToken);
        }
    }

    protected override async Task<T> WriteCoreAsync<T>(
        IsolationLevel isolation, Func<DbSession, Task<T>> work, CancellationToken cancellationToken)
    {
        var connectionAttempts = 1;
        for (var attempt = 1; ; attempt++)
        {
            var committing = new StrongBox<bool>();
            try
            {
                var result = await RunOnceAsync(isolation, work, committing, cancellationToken);
                WriteSucceeded();
                return result;
            }
            catch (PostgresException ex) when (attempt < MaxAttempts && LostARace(ex))
            {
                LogRetry(attempt, ex.SqlState);
            }
            catch (NpgsqlException ex) when (!committing.Value && connectionAttempts < MaxConnectionAttempts && IsBrokenConnection(ex))
            {
                Reconnect(connectionAttempts++, ex);
            }

            // Let the winner finish before trying again, longer each time (up to 64 ms), never in step with another loser.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 1 << Math.Min(attempt + 1, 6))), cancellationToken);
        }
    }

    private async Task<T> RunOnceAsync<T>(
        IsolationLevel isolation, Func<DbSession, Task<T>> work, StrongBox<bool> committing, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken);
        var result = await work(new DbSession(connection, transaction));
        committing.Value = true;
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// The connection could not be used: refused, reset, or ended by the server (shutting down,
    /// restarted). Not an error in what was asked, and not a timeout: a server too busy to answer
    /// in time is not helped by the same work arriving again.
    /// </summary>
    private static bool IsBrokenConnection(NpgsqlException exception) => exception is PostgresException postgres
        ? postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
        : exception.IsTransient && exception.InnerException is not TimeoutException;

    /// <summary>Drops the pool's idle connections, which a restarted server has closed too, before trying again.</summary>
    private void Reconnect(int attempt, NpgsqlException exception)
    {
        _dataSource.Clear();
        LogReconnect(exception, attempt);
    }

    /// <summary>
    /// A serialization failure or a deadlock: running again can succeed. So can a unique key
    /// violated because another transaction inserted it after the work looked for it: the next
    /// run sees that row and decides otherwise (a taken username, a known email).
    /// </summary>
    private static bool LostARace(PostgresException exception) => exception.SqlState is
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation;

    /// <summary>
    /// Applies every pending script in one transaction under an advisory lock: instances that
    /// start together wait for the first, then find nothing left to do. With nothing pending it
    /// writes nothing (a read-only server still lets the app start, and answer 503 to writes).
    /// </summary>
    public override async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (await GetSchemaVersionAsync(cancellationToken) >= Migrations.Postgres.Count)
        {
            return 0;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@Key);", new { Key = MigrationLock }, transaction);
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);", transaction: transaction);
        var version = await connection.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_version;", transaction: transaction) ?? 0;
        for (var next = version; next < Migrations.Postgres.Count; next++)
        {
            await connection.ExecuteAsync(Migrations.Postgres[next], transaction: transaction);
            await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@Version);", new { Version = next + 1 }, transaction);
        }

        await transaction.CommitAsync(cancellationToken);
        return Migrations.Postgres.Count - Math.Min(version, Migrations.Postgres.Count);
    }

    public override async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>("SELECT to_regclass('schema_version') IS NOT NULL;"))
        {
            return 0;
        }

        return await connection.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_version;") ?? 0;
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Debug, Message = "A write lost a race (SQLSTATE {SqlState}) on attempt {Attempt}; running it again")]
    private partial void LogRetry(int attempt, string sqlState);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A connection was broken on attempt {Attempt}; trying again on a new one")]
    private partial void LogReconnect(Exception exception, int attempt);
}
