using System.Data;
using System.Text.Json;
using Accounts.Api.Storage;
using Dapper;

namespace Accounts.Api.Email;

/// <summary>The <c>outbox</c> table: what is waiting to be sent, what was sent, what gave up.</summary>
public sealed class OutboxStore(Database database, TimeProvider time)
{
    /// <summary>Adds a message inside the caller's transaction, so it commits or rolls back with the change that caused it.</summary>
    public static async Task<long> AddAsync(
        IDbConnection connection, IDbTransaction transaction, NewOutboxMessage message, DateTimeOffset now)
    {
        const string sql = """
            INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at)
            VALUES (@Kind, @Recipients, @UserId, @Language, 'pending', 0, @Now, @Now)
            RETURNING id;
            """;
        return await connection.ExecuteScalarAsync<long>(sql, new
        {
            message.Kind,
            Recipients = JsonSerializer.Serialize(message.Recipients),
            message.UserId,
            message.Language,
            Now = now,
        }, transaction);
    }

    /// <summary>When the newest message of one of <paramref name="kinds"/> about <paramref name="userId"/> was queued, if ever.</summary>
    public static async Task<DateTimeOffset?> LastCreatedForUserAsync(
        IDbConnection connection, IDbTransaction transaction, Guid userId, IReadOnlyCollection<string> kinds)
    {
        const string sql = "SELECT MAX(created_at) FROM outbox WHERE user_id = @UserId AND kind IN @Kinds;";
        var ms = await connection.ExecuteScalarAsync<long?>(sql, new { UserId = userId, Kinds = kinds }, transaction);
        return ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due messages for <paramref name="lease"/>: while the
    /// lease holds, no other claim returns them. Rows in <paramref name="inFlight"/> (this process
    /// is still recording their last attempt) are neither returned nor leased: a claim must never
    /// hold a row that nobody will send until the lease runs out.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(
        int limit, TimeSpan lease, IReadOnlyCollection<long> inFlight, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE outbox SET lease_until = @LeaseUntil
            WHERE id IN (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                  AND id NOT IN (SELECT value FROM json_each(@InFlight))
                ORDER BY next_attempt_at, id
                LIMIT @Limit)
            RETURNING id, kind, recipients, user_id, language, attempts, created_at;
            """;
        var now = time.GetUtcNow();
        var rows = await database.WriteAsync(
            (connection, transaction) => connection.QueryAsync<OutboxRow>(
                sql, new { Now = now, LeaseUntil = now + lease, Limit = limit, InFlight = JsonSerializer.Serialize(inFlight) }, transaction),
            cancellationToken);
        return rows.OrderBy(r => r.Id).Select(r => r.ToMessage()).ToList();
    }

    /// <summary>Gives up every lease this process could hold: with one instance, a restart reclaims at once.</summary>
    public Task<int> ReleaseAllLeasesAsync(CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                "UPDATE outbox SET lease_until = NULL WHERE status = 'pending' AND lease_until IS NOT NULL;",
                transaction: transaction),
            cancellationToken);

    /// <summary>
    /// Records many outcomes in one write transaction: the rows sent or skipped with one statement
    /// each, the failures one by one (there are few). Outcomes of rows no longer pending are ignored.
    /// </summary>
    public Task RecordAsync(IReadOnlyCollection<DeliveryOutcome> outcomes, CancellationToken cancellationToken)
    {
        const string finishSql = """
            UPDATE outbox
            SET status = @Status, sent_at = CASE WHEN @Status = 'sent' THEN @Now ELSE sent_at END,
                attempts = attempts + 1, lease_until = NULL, last_error = NULL
            WHERE id IN (SELECT value FROM json_each(@Ids)) AND status = 'pending';
            """;
        const string deadSql = """
            UPDATE outbox SET status = 'dead', attempts = attempts + 1, lease_until = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending';
            """;
        const string retrySql = """
            UPDATE outbox
            SET attempts = attempts + 1, next_attempt_at = @NextAttemptAt, lease_until = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending';
            """;
        var now = time.GetUtcNow();
        var sent = JsonSerializer.Serialize(outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Sent).Select(o => o.Id));
        var skipped = JsonSerializer.Serialize(outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Skipped).Select(o => o.Id));
        return database.WriteAsync(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(finishSql, new { Status = "sent", Now = now, Ids = sent }, transaction);
                await connection.ExecuteAsync(finishSql, new { Status = "skipped", Now = now, Ids = skipped }, transaction);
                foreach (var outcome in outcomes)
                {
                    if (outcome.Kind == DeliveryOutcomeKind.Dead)
                    {
                        await connection.ExecuteAsync(deadSql, new { outcome.Id, Error = Truncate(outcome.Error ?? "") }, transaction);
                    }
                    else if (outcome.Kind == DeliveryOutcomeKind.Retry)
                    {
                        await connection.ExecuteAsync(
                            retrySql,
                            new { outcome.Id, outcome.NextAttemptAt, Error = Truncate(outcome.Error ?? "") },
                            transaction);
                    }
                }

                return outcomes.Count;
            },
            cancellationToken);
    }

    /// <summary>When the next pending message scheduled after <paramref name="now"/> falls due, if any.</summary>
    public async Task<DateTimeOffset?> NextDueAfterAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        const string sql = "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND next_attempt_at > @Now;";
        await using var connection = await database.OpenAsync(cancellationToken);
        var ms = await connection.ExecuteScalarAsync<long?>(sql, new { Now = now });
        return ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
    }

    /// <summary>Counts the pending messages (the backlog), synchronously, for an observable gauge.</summary>
    public long CountPending()
    {
        const string sql = "SELECT COUNT(*) FROM outbox WHERE status = 'pending';";
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(database.ConnectionString);
        connection.Open();
        return connection.ExecuteScalar<long>(sql);
    }

    /// <summary>The newest messages with <paramref name="status"/> (all when null), newest first.</summary>
    public async Task<IReadOnlyList<OutboxEntry>> ListAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT id, kind, recipients, status, attempts, created_at, next_attempt_at, sent_at, last_error
            FROM outbox
            WHERE @Status IS NULL OR status = @Status
            ORDER BY id DESC
            LIMIT @Limit;
            """;
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<OutboxEntry>(sql, new { Status = status, Limit = limit });
        return [.. rows];
    }

    /// <summary>
    /// Puts dead messages back in the queue, due now, with a fresh count of attempts (their last
    /// error stays until the next attempt). All dead messages when <paramref name="ids"/> is null.
    /// </summary>
    public Task<int> RetryDeadAsync(IReadOnlyCollection<long>? ids, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = @Now, lease_until = NULL
            WHERE status = 'dead' AND (@All OR id IN (SELECT value FROM json_each(@Ids)));
            """;
        var now = time.GetUtcNow();
        return database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                sql, new { Now = now, All = ids is null, Ids = JsonSerializer.Serialize(ids ?? []) }, transaction),
            cancellationToken);
    }

    /// <summary>Pending and dead counts and the oldest pending message's creation time, for health checks.</summary>
    public async Task<OutboxStatistics> GetStatisticsAsync(CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT
                (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS Pending,
                (SELECT COUNT(*) FROM outbox WHERE status = 'dead') AS Dead,
                (SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS OldestPendingCreatedAt;
            """;
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<(long Pending, long Dead, long? OldestPendingCreatedAt)>(sql);
        return new OutboxStatistics(
            row.Pending,
            row.Dead,
            row.OldestPendingCreatedAt is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
    }

    private static string Truncate(string error) => error.Length <= 2000 ? error : error[..2000];

    private sealed class OutboxRow
    {
        public long Id { get; init; }

        public string Kind { get; init; } = "";

        public string Recipients { get; init; } = "[]";

        public Guid? UserId { get; init; }

        public string Language { get; init; } = "";

        public long Attempts { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public OutboxMessage ToMessage() => new(
            Id, Kind, JsonSerializer.Deserialize<string[]>(Recipients) ?? [], UserId, Language, (int)Attempts, CreatedAt);
    }
}

public sealed record OutboxStatistics(long Pending, long Dead, DateTimeOffset? OldestPendingCreatedAt);

/// <summary>An outbox row as the command line shows it.</summary>
public sealed class OutboxEntry
{
    public long Id { get; init; }

    public string Kind { get; init; } = "";

    /// <summary>The recipients as stored: a JSON array.</summary>
    public string Recipients { get; init; } = "[]";

    public string Status { get; init; } = "";

    public long Attempts { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset NextAttemptAt { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public string? LastError { get; init; }
}

public enum DeliveryOutcomeKind
{
    Sent,
    Skipped,
    Retry,
    Dead,
}

/// <summary>What became of one claimed message, waiting to be recorded with others in one transaction.</summary>
public readonly record struct DeliveryOutcome(long Id, DeliveryOutcomeKind Kind, string? Error = null, DateTimeOffset? NextAttemptAt = null);
