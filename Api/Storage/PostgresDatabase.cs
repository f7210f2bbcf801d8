using System.Data;
using System.Data.Common;
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
/// </summary>
public sealed partial class PostgresDatabase : Database
{
    /// <summary>How many times a write that lost a race runs in all before its failure reaches the caller.</summary>
    internal const int MaxAttempts = 10;

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

    protected override async Task<T> ReadCoreAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await read(connection);
    }

    protected override async Task<T> WriteCoreAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await RunOnceAsync(isolation, work, cancellationToken);
                WriteSucceeded();
                return result;
            }
            catch (PostgresException ex) when (attempt < MaxAttempts && LostARace(ex))
            {
                LogRetry(attempt, ex.SqlState);
            }

            // Let the winner finish before trying again, longer each time (up to 64 ms), never in step with another loser.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 1 << Math.Min(attempt + 1, 6))), cancellationToken);
        }
    }

    private async Task<T> RunOnceAsync<T>(
        IsolationLevel isolation, Func<IDbConnection, IDbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
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
    /// start together wait for the first, then find nothing left to do.
    /// </summary>
    public override async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
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
}
