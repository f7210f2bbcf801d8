using System.Data;
using System.Globalization;
using System.Text.Json;
using Accounts.Api.Storage;
using Dapper;

namespace Accounts.Api.Email;

/// <summary>
/// The <c>outbox</c> table: what is waiting to be sent, what was sent, what gave up. A claimed
/// row carries a lease (until when) and its owner (this process's <see cref="LeaseOwner"/>), so
/// that instances sharing one database each give back only their own claims.
/// </summary>
public sealed class OutboxStore(Database database, TimeProvider time)
{
    /// <summary>This process's name on the leases it takes: new at every start.</summary>
    public string LeaseOwner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

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
        var sql = $"SELECT MAX(created_at) FROM outbox WHERE user_id = @UserId AND {connection.InSet("kind", "@Kinds")};";
        var ms = await connection.ExecuteScalarAsync<long?>(sql, new { UserId = userId, Kinds = connection.SetOf(kinds) }, transaction);
        return ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due messages for <paramref name="lease"/>: while the
    /// lease holds, no other claim, in this instance or another, returns them. Rows in
    /// <paramref name="inFlight"/> (this process is still recording their last attempt) are
    /// neither returned nor leased: a claim must never hold a row that nobody will send until the
    /// lease runs out. On PostgreSQL the rows are locked with <c>FOR UPDATE SKIP LOCKED</c>, so
    /// instances claiming at the same moment take different rows and never wait for each other.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(
        int limit, TimeSpan lease, IReadOnlyCollection<long> inFlight, CancellationToken cancellationToken)
    {
        const string sqlite = """
            UPDATE outbox SET lease_until = @LeaseUntil, lease_owner = @Owner
            WHERE id IN (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                  AND id NOT IN (SELECT value FROM json_each(@InFlight))
                ORDER BY next_attempt_at, id
                LIMIT @Limit)
            RETURNING id, kind, recipients, user_id, language, attempts, created_at;
            """;
        // The rows are chosen and locked once, in the CTE; a row another claim is leasing right now
        // is skipped, and one it has just leased fails the re-check (READ COMMITTED locks the
        // newest version and evaluates the WHERE again), so no row is ever leased twice.
        const string postgres = """
            WITH due AS (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                  AND id <> ALL (@InFlight)
                ORDER BY next_attempt_at, id
                LIMIT @Limit
                FOR UPDATE SKIP LOCKED)
            UPDATE outbox SET lease_until = @LeaseUntil, lease_owner = @Owner
            FROM due
            WHERE outbox.id = due.id
            RETURNING outbox.id, kind, recipients, user_id, language, attempts, created_at;
            """;
        var now = time.GetUtcNow();
        var rows = await database.WriteAsync(
            IsolationLevel.ReadCommitted,
            (connection, transaction) => connection.QueryAsync<OutboxRow>(
                connection.IsPostgres() ? postgres : sqlite,
                new { Now = now, LeaseUntil = now + lease, Owner = LeaseOwner, Limit = limit, InFlight = connection.SetOf(inFlight) },
                transaction),
            cancellationToken);
        return rows.OrderBy(r => r.Id).Select(r => r.ToMessage()).ToList();
    }

    /// <summary>
    /// Gives back the leases this process holds, when it stops. With <paramref name="everyOwner"/>
    /// (at start, on a database no other instance uses) every lease goes, so rows claimed before a
    /// crash are sent again at once instead of when their lease runs out.
    /// </summary>
    public Task<int> ReleaseLeasesAsync(bool everyOwner, CancellationToken cancellationToken) =>
        database.WriteAsync(
            IsolationLevel.ReadCommitted,
            (connection, transaction) => connection.ExecuteAsync(
                """
                UPDATE outbox SET lease_until = NULL, lease_owner = NULL
                WHERE status = 'pending' AND lease_until IS NOT NULL AND (@Every OR lease_owner = @Owner);
                """,
                new { Every = everyOwner, Owner = LeaseOwner },
                transaction),
            cancellationToken);

    /// <summary>
    /// Records many outcomes in one write transaction: the rows sent or skipped with one statement
    /// each, the failures one by one (there are few), and the rows given back untried with one
    /// statement when there are any. Outcomes of rows no longer pending are ignored, and so is a
    /// failure or a release on a row whose lease another instance has taken since (its schedule is
    /// that instance's now): a sent message is recorded as sent whoever holds it.
    /// </summary>
    public Task RecordAsync(IReadOnlyCollection<DeliveryOutcome> outcomes, CancellationToken cancellationToken)
    {
        const string finishSql = """
            UPDATE outbox
            SET status = @Status, sent_at = CASE WHEN @Status = 'sent' THEN @Now ELSE sent_at END,
                attempts = attempts + 1, lease_until = NULL, lease_owner = NULL, last_error = NULL
            WHERE {0} AND status = 'pending';
            """;
        const string deadSql = """
            UPDATE outbox SET status = 'dead', attempts = attempts + 1, lease_until = NULL, lease_owner = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = @Owner);
            """;
        const string retrySql = """
            UPDATE outbox
            SET attempts = attempts + 1, next_attempt_at = @NextAttemptAt, lease_until = NULL, lease_owner = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = @Owner);
            """;
        const string releaseSql = """
            UPDATE outbox SET lease_until = NULL, lease_owner = NULL
            WHERE {0} AND status = 'pending' AND lease_owner = @Owner;
            """;
        var now = time.GetUtcNow();
        var sent = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Sent).Select(o => o.Id).ToList();
        var skipped = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Skipped).Select(o => o.Id).ToList();
        var released = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Released).Select(o => o.Id).ToList();
        return database.WriteAsync(
            IsolationLevel.ReadCommitted,
            async (connection, transaction) =>
            {
                var finish = string.Format(CultureInfo.InvariantCulture, finishSql, connection.InSet("id", "@Ids"));
                await connection.ExecuteAsync(finish, new { Status = "sent", Now = now, Ids = connection.SetOf(sent) }, transaction);
                await connection.ExecuteAsync(finish, new { Status = "skipped", Now = now, Ids = connection.SetOf(skipped) }, transaction);
                if (released.Count > 0)
                {
                    var release = string.Format(CultureInfo.InvariantCulture, releaseSql, connection.InSet("id", "@Ids"));
                    await connection.ExecuteAsync(release, new { Owner = LeaseOwner, Ids = connection.SetOf(released) }, transaction);
                }

                foreach (var outcome in outcomes)
                {
                    if (outcome.Kind == DeliveryOutcomeKind.Dead)
                    {
                        await connection.ExecuteAsync(
                            deadSql, new { outcome.Id, Error = Truncate(outcome.Error ?? ""), Owner = LeaseOwner }, transaction);
                    }
                    else if (outcome.Kind == DeliveryOutcomeKind.Retry)
                    {
                        await connection.ExecuteAsync(
                            retrySql,
                            new { outcome.Id, outcome.NextAttemptAt, Error = Truncate(outcome.Error ?? ""), Owner = LeaseOwner },
                            transaction);
                    }
                }

                return outcomes.Count;
            },
            cancellationToken);
    }

    /// <summary>
    /// When the next pending message falls due after <paramref name="now"/>, if any: its scheduled
    /// attempt, or the end of its lease when one holds it (an instance that stopped without
    /// giving its claims back).
    /// </summary>
    public async Task<DateTimeOffset?> NextDueAfterAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT MIN(due) FROM (
                SELECT CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END AS due
                FROM outbox WHERE status = 'pending') AS pending
            WHERE due > @Now;
            """;
        await using var connection = await database.OpenAsync(cancellationToken);
        var ms = await connection.ExecuteScalarAsync<long?>(sql, new { Now = now });
        return ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
    }

    /// <summary>Counts the pending messages (the backlog), synchronously, for an observable gauge.</summary>
    public long CountPending()
    {
        const string sql = "SELECT COUNT(*) FROM outbox WHERE status = 'pending';";
        using var connection = database.Open();
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
        var now = time.GetUtcNow();
        return database.WriteAsync(
            IsolationLevel.ReadCommitted,
            (connection, transaction) => connection.ExecuteAsync(
                $"""
                UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = @Now, lease_until = NULL, lease_owner = NULL
                WHERE status = 'dead' AND (@All OR {connection.InSet("id", "@Ids")});
                """,
                new { Now = now, All = ids is null, Ids = connection.SetOf(ids ?? []) },
                transaction),
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

    /// <summary>Not attempted after all (composing it needed a write the database refused): its lease is given back, its attempts unchanged.</summary>
    Released,
}

/// <summary>What became of one claimed message, waiting to be recorded with others in one transaction.</summary>
public readonly record struct DeliveryOutcome(long Id, DeliveryOutcomeKind Kind, string? Error = null, DateTimeOffset? NextAttemptAt = null);
