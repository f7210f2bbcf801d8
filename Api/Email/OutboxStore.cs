using System.Text.Json;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;

namespace Accounts.Api.Email;

/// <summary>
/// The <c>outbox</c> table, over one session (<c>session.Outbox</c>): what is waiting to be sent,
/// what was sent, what gave up. A claimed row carries a lease (until when) and its owner, so that
/// instances sharing one database each give back only their own claims (<see cref="Outbox"/>).
/// </summary>
public sealed class OutboxStore(DbSession session)
{
    /// <summary>
    /// Adds a message in the session's write, so it commits or rolls back with the change that
    /// caused it, with the current span's <c>traceparent</c> (the request's trace) for its send span to link to.
    /// </summary>
    /// <returns>The new row's id.</returns>
    public Task<long> AddAsync(NewOutboxMessage message, DateTimeOffset now)
    {
        const string sql = """
            INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at, traceparent, transport, payload, webhook_id)
            VALUES (@Kind, @Recipients, @UserId, @Language, 'pending', 0, @Now, @Now, @Traceparent, @Transport, @Payload, @WebhookId)
            RETURNING id;
            """;
        return session.ScalarAsync<long>(sql, new
        {
            message.Kind,
            Recipients = JsonSerializer.Serialize(message.Recipients),
            message.UserId,
            message.Language,
            Now = now,
            Traceparent = Telemetry.CurrentTraceparent(),
            message.Transport,
            message.Payload,
            message.WebhookId,
        });
    }

    /// <summary>
    /// For accounts being erased: deletes their mails and their events that are done (sent,
    /// skipped or dead); their pending events stay until delivered, so the webhooks hear of the
    /// erasure (a delivered event's body is dropped when it is recorded).
    /// </summary>
    public Task<int> DeleteOfErasedAsync(IEnumerable<Guid> userIds) =>
        session.ExecuteAsync(
            $"DELETE FROM outbox WHERE {session.InSet("user_id", "@Ids")} AND (transport = 'email' OR status <> 'pending');",
            new { Ids = session.SetOf(userIds.Select(id => (string)TypeHandlers.ToStored(id))) });

    /// <summary>When the newest message of one of <paramref name="kinds"/> about <paramref name="userId"/> was queued, if ever.</summary>
    public Task<DateTimeOffset?> LastCreatedForUserAsync(Guid userId, IReadOnlyCollection<string> kinds) =>
        session.ScalarAsync<DateTimeOffset?>(
            $"SELECT MAX(created_at) FROM outbox WHERE user_id = @UserId AND {session.InSet("kind", "@Kinds")};",
            new { UserId = userId, Kinds = session.SetOf(kinds) });

    /// <summary>
    /// Leases up to <paramref name="limit"/> due messages to <paramref name="owner"/> until
    /// <paramref name="leaseUntil"/>: while the lease holds, no other claim, in this instance or
    /// another, returns them. Rows in <paramref name="inFlight"/> (the owner is still recording
    /// their last attempt) are neither returned nor leased: a claim must never hold a row that
    /// nobody will send until the lease runs out. On PostgreSQL the rows are locked with
    /// <c>FOR UPDATE SKIP LOCKED</c>, so instances claiming at the same moment take different rows
    /// and never wait for each other. A webhook is due only once every earlier webhook of its
    /// account to its endpoint is done (sent, skipped or dead): one account's events reach each
    /// endpoint in the order they happened, however long the endpoint was down.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(
        string owner, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, IReadOnlyCollection<long> inFlight)
    {
        const string sqlite = """
            UPDATE outbox SET lease_until = @LeaseUntil, lease_owner = @Owner
            WHERE id IN (
                SELECT id FROM outbox AS o
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                  AND id NOT IN (SELECT value FROM json_each(@InFlight))
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox AS earlier
                      WHERE o.transport = 'webhook' AND earlier.transport = 'webhook' AND earlier.status = 'pending'
                        AND earlier.user_id = o.user_id AND earlier.recipients = o.recipients AND earlier.id < o.id)
                ORDER BY next_attempt_at, id
                LIMIT @Limit)
            RETURNING id, kind, recipients, user_id, language, attempts, created_at, traceparent, transport, payload, webhook_id;
            """;
        // The rows are chosen and locked once, in the CTE; a row another claim is leasing right now
        // is skipped, and one it has just leased fails the re-check (READ COMMITTED locks the
        // newest version and evaluates the WHERE again), so no row is ever leased twice.
        const string postgres = """
            WITH due AS (
                SELECT id FROM outbox AS o
                WHERE status = 'pending' AND next_attempt_at <= @Now
                  AND (lease_until IS NULL OR lease_until <= @Now)
                  AND id <> ALL (@InFlight)
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox AS earlier
                      WHERE o.transport = 'webhook' AND earlier.transport = 'webhook' AND earlier.status = 'pending'
                        AND earlier.user_id = o.user_id AND earlier.recipients = o.recipients AND earlier.id < o.id)
                ORDER BY next_attempt_at, id
                LIMIT @Limit
                FOR UPDATE SKIP LOCKED)
            UPDATE outbox SET lease_until = @LeaseUntil, lease_owner = @Owner
            FROM due
            WHERE outbox.id = due.id
            RETURNING outbox.id, kind, recipients, user_id, language, attempts, created_at, traceparent, transport, payload, webhook_id;
            """;
        var rows = await session.QueryAsync<OutboxRow>(
            session.IsPostgres ? postgres : sqlite,
            new { Now = now, LeaseUntil = leaseUntil, Owner = owner, Limit = limit, InFlight = session.SetOf(inFlight) });
        return [.. rows.OrderBy(r => r.Id).Select(r => r.ToMessage())];
    }

    /// <summary>
    /// Gives back the leases <paramref name="owner"/> holds; with <paramref name="everyOwner"/>,
    /// every lease.
    /// </summary>
    public Task<int> ReleaseLeasesAsync(string owner, bool everyOwner) =>
        session.ExecuteAsync(
            """
            UPDATE outbox SET lease_until = NULL, lease_owner = NULL
            WHERE status = 'pending' AND lease_until IS NOT NULL AND (@Every OR lease_owner = @Owner);
            """,
            new { Every = everyOwner, Owner = owner });

    /// <summary>
    /// Records many outcomes of <paramref name="owner"/>'s claims: the rows sent or skipped with
    /// one statement each, the failures one by one (there are few), and the rows given back
    /// untried with one statement when there are any. Outcomes of rows no longer pending are
    /// ignored, and so is a failure or a release on a row whose lease another instance has taken
    /// since (its schedule is that instance's now): a sent message is recorded as sent whoever holds it.
    /// </summary>
    public async Task RecordAsync(string owner, IReadOnlyCollection<DeliveryOutcome> outcomes, DateTimeOffset now)
    {
        var ids = session.InSet("id", "@Ids");
        var finish = $"""
            UPDATE outbox
            SET status = @Status, sent_at = CASE WHEN @Status = 'sent' THEN @Now ELSE sent_at END,
                attempts = attempts + 1, lease_until = NULL, lease_owner = NULL, last_error = NULL, payload = NULL
            WHERE {ids} AND status = 'pending';
            """;
        const string dead = """
            UPDATE outbox SET status = 'dead', attempts = attempts + 1, lease_until = NULL, lease_owner = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = @Owner);
            """;
        const string retry = """
            UPDATE outbox
            SET attempts = attempts + 1, next_attempt_at = @NextAttemptAt, lease_until = NULL, lease_owner = NULL, last_error = @Error
            WHERE id = @Id AND status = 'pending' AND (lease_owner IS NULL OR lease_owner = @Owner);
            """;
        var sent = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Sent).Select(o => o.Id).ToList();
        var skipped = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Skipped).Select(o => o.Id).ToList();
        var released = outcomes.Where(o => o.Kind == DeliveryOutcomeKind.Released).Select(o => o.Id).ToList();
        await session.ExecuteAsync(finish, new { Status = "sent", Now = now, Ids = session.SetOf(sent) });
        await session.ExecuteAsync(finish, new { Status = "skipped", Now = now, Ids = session.SetOf(skipped) });
        if (released.Count > 0)
        {
            var release = $"UPDATE outbox SET lease_until = NULL, lease_owner = NULL WHERE {ids} AND status = 'pending' AND lease_owner = @Owner;";
            await session.ExecuteAsync(release, new { Owner = owner, Ids = session.SetOf(released) });
        }

        foreach (var outcome in outcomes)
        {
            if (outcome.Kind == DeliveryOutcomeKind.Dead)
            {
                await session.ExecuteAsync(dead, new { outcome.Id, Error = Truncate(outcome.Error ?? ""), Owner = owner });
            }
            else if (outcome.Kind == DeliveryOutcomeKind.Retry)
            {
                await session.ExecuteAsync(retry, new { outcome.Id, outcome.NextAttemptAt, Error = Truncate(outcome.Error ?? ""), Owner = owner });
            }
        }
    }

    /// <summary>
    /// When the next pending message falls due after <paramref name="now"/>, if any: its scheduled
    /// attempt, or the end of its lease when one holds it (an instance that stopped without
    /// giving its claims back).
    /// </summary>
    public Task<DateTimeOffset?> NextDueAfterAsync(DateTimeOffset now)
    {
        const string sql = """
            SELECT MIN(due) FROM (
                SELECT CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END AS due
                FROM outbox WHERE status = 'pending') AS pending
            WHERE due > @Now;
            """;
        return session.ScalarAsync<DateTimeOffset?>(sql, new { Now = now });
    }

    /// <summary>Counts the pending messages (the backlog), synchronously, for an observable gauge.</summary>
    public long CountPending() => session.Scalar<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';");

    /// <summary>The newest messages with <paramref name="status"/> (all when null), newest first.</summary>
    public Task<IReadOnlyList<OutboxEntry>> ListAsync(string? status, int limit)
    {
        const string sql = """
            SELECT id, kind, recipients, status, attempts, created_at, next_attempt_at, sent_at, last_error
            FROM outbox
            WHERE @Status IS NULL OR status = @Status
            ORDER BY id DESC
            LIMIT @Limit;
            """;
        return session.QueryAsync<OutboxEntry>(sql, new { Status = status, Limit = limit });
    }

    /// <summary>
    /// Puts dead messages back in the queue, due now, with a fresh count of attempts (their last
    /// error stays until the next attempt). All dead messages when <paramref name="ids"/> is null.
    /// </summary>
    public Task<int> RetryDeadAsync(IReadOnlyCollection<long>? ids, DateTimeOffset now) =>
        session.ExecuteAsync(
            $"""
            UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = @Now, lease_until = NULL, lease_owner = NULL
            WHERE status = 'dead' AND (@All OR {session.InSet("id", "@Ids")});
            """,
            new { Now = now, All = ids is null, Ids = session.SetOf(ids ?? []) });

    /// <summary>Deletes dead messages (all of them when <paramref name="ids"/> is null); returns how many.</summary>
    public Task<int> PurgeDeadAsync(IReadOnlyCollection<long>? ids) =>
        session.ExecuteAsync(
            $"DELETE FROM outbox WHERE status = 'dead' AND (@All OR {session.InSet("id", "@Ids")});",
            new { All = ids is null, Ids = session.SetOf(ids ?? []) });

    /// <summary>Pending and dead counts and the oldest pending message's creation time, for health checks.</summary>
    public Task<OutboxStatistics> GetStatisticsAsync()
    {
        const string sql = """
            SELECT
                (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS pending,
                (SELECT COUNT(*) FROM outbox WHERE status = 'dead') AS dead,
                (SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS oldest_pending_created_at;
            """;
        return session.QuerySingleAsync<OutboxStatistics>(sql);
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

        public string? Traceparent { get; init; }

        public string Transport { get; init; } = OutboxTransports.Email;

        public string? Payload { get; init; }

        public string? WebhookId { get; init; }

        public OutboxMessage ToMessage() => new(
            Id, Kind, JsonSerializer.Deserialize<string[]>(Recipients) ?? [], UserId, Language, (int)Attempts, CreatedAt, Traceparent,
            Transport, Payload, WebhookId);
    }
}

/// <summary>The email feature's table, as a session exposes it: <c>session.Outbox</c>.</summary>
public static class EmailStores
{
    extension(DbSession session)
    {
        /// <summary>The <c>outbox</c> table in this session.</summary>
        public OutboxStore Outbox => new(session);
    }
}

/// <summary>The outbox's pending and dead counts and when the oldest pending message was queued.</summary>
public sealed class OutboxStatistics
{
    public long Pending { get; init; }

    public long Dead { get; init; }

    public DateTimeOffset? OldestPendingCreatedAt { get; init; }
}

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
