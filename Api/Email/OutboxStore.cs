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
    /// lease holds, no other claim returns them.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE outbox SET lease_until = @LeaseUntil
            WHERE id IN (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                ORDER BY next_attempt_at, id
                LIMIT @Limit)
            RETURNING id, kind, recipients, user_id, language, attempts, created_at;
            """;
        var now = time.GetUtcNow();
        var rows = await database.WriteAsync(
            (connection, transaction) => connection.QueryAsync<OutboxRow>(
                sql, new { Now = now, LeaseUntil = now + lease, Limit = limit }, transaction),
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

    public Task MarkSentAsync(long id, CancellationToken cancellationToken) =>
        SetFinalStatusAsync(id, "sent", error: null, cancellationToken);

    public Task MarkSkippedAsync(long id, CancellationToken cancellationToken) =>
        SetFinalStatusAsync(id, "skipped", error: null, cancellationToken);

    public Task MarkDeadAsync(long id, string error, CancellationToken cancellationToken) =>
        SetFinalStatusAsync(id, "dead", error, cancellationToken);

    /// <summary>Counts a failed attempt and schedules the next one.</summary>
    public Task ScheduleRetryAsync(long id, DateTimeOffset nextAttemptAt, string error, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE outbox
            SET attempts = attempts + 1, next_attempt_at = @NextAttemptAt, lease_until = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending';
            """;
        return database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                sql, new { Id = id, NextAttemptAt = nextAttemptAt, Error = Truncate(error) }, transaction),
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

    private Task<int> SetFinalStatusAsync(long id, string status, string? error, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE outbox
            SET status = @Status, sent_at = CASE WHEN @Status = 'sent' THEN @Now ELSE sent_at END,
                attempts = attempts + 1, lease_until = NULL, last_error = @Error
            WHERE id = @Id;
            """;
        var now = time.GetUtcNow();
        return database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                sql, new { Id = id, Status = status, Now = now, Error = error is null ? null : Truncate(error) }, transaction),
            cancellationToken);
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
