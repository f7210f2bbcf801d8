using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;

namespace Accounts.Api.Email;

/// <summary>
/// The outbox as this process uses it outside a request: the delivery worker's claims and
/// records, the gauges, the health check and the command line. Each call is one session on the
/// <see cref="OutboxStore"/>; what the calls share is this process's name on the leases it takes
/// (<see cref="LeaseOwner"/>), so that instances on one database each give back only their own.
/// </summary>
public sealed class Outbox(Database database, TimeProvider time)
{
    /// <summary>This process's name on the leases it takes: new at every start.</summary>
    public string LeaseOwner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>
    /// Claims up to <paramref name="limit"/> due messages for <paramref name="lease"/>, leaving out
    /// <paramref name="inFlight"/> (see <see cref="OutboxStore.ClaimDueAsync"/>). Each decision is
    /// the claim's own statement (its row locks and conditions), so it needs no more than that.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(
        int limit, TimeSpan lease, IReadOnlyCollection<long> inFlight, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var span = Telemetry.Source.StartActivity("outbox claim");
        var claimed = await database.WriteAsync(
            WriteNeeds.KeysAndLocks,
            session => session.Outbox.ClaimDueAsync(LeaseOwner, limit, now, now + lease, inFlight),
            cancellationToken);
        span?.SetTag("outbox.claimed", claimed.Count);
        span?.SetTag("outbox.owner", LeaseOwner);
        return claimed;
    }

    /// <summary>
    /// Gives back the leases this process holds, when it stops. With <paramref name="everyOwner"/>
    /// (at start, on a database no other instance uses) every lease goes, so rows claimed before a
    /// crash are sent again at once instead of when their lease runs out.
    /// </summary>
    public Task<int> ReleaseLeasesAsync(bool everyOwner, CancellationToken cancellationToken) =>
        database.WriteAsync(
            WriteNeeds.KeysAndLocks, session => session.Outbox.ReleaseLeasesAsync(LeaseOwner, everyOwner), cancellationToken);

    /// <summary>Records many outcomes in one write (see <see cref="OutboxStore.RecordAsync"/>).</summary>
    public Task RecordAsync(IReadOnlyCollection<DeliveryOutcome> outcomes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return database.WriteAsync(
            WriteNeeds.KeysAndLocks,
            async session =>
            {
                await session.Outbox.RecordAsync(LeaseOwner, outcomes, now);
                return outcomes.Count;
            },
            cancellationToken);
    }

    /// <inheritdoc cref="OutboxStore.NextDueAfterAsync"/>
    public Task<DateTimeOffset?> NextDueAfterAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync(session => session.Outbox.NextDueAfterAsync(now), cancellationToken);

    /// <inheritdoc cref="OutboxStore.CountPending"/>
    public long CountPending() => database.Read(session => session.Outbox.CountPending());

    /// <inheritdoc cref="OutboxStore.ListAsync"/>
    public Task<IReadOnlyList<OutboxEntry>> ListAsync(string? status, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(session => session.Outbox.ListAsync(status, limit), cancellationToken);

    /// <inheritdoc cref="OutboxStore.RetryDeadAsync"/>
    public Task<int> RetryDeadAsync(IReadOnlyCollection<long>? ids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return database.WriteAsync(WriteNeeds.KeysAndLocks, session => session.Outbox.RetryDeadAsync(ids, now), cancellationToken);
    }

    /// <inheritdoc cref="OutboxStore.PurgeDeadAsync"/>
    public Task<int> PurgeDeadAsync(IReadOnlyCollection<long>? ids, CancellationToken cancellationToken) =>
        database.WriteAsync(WriteNeeds.KeysAndLocks, session => session.Outbox.PurgeDeadAsync(ids), cancellationToken);

    /// <inheritdoc cref="OutboxStore.GetStatisticsAsync"/>
    public Task<OutboxStatistics> GetStatisticsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(session => session.Outbox.GetStatisticsAsync(), cancellationToken);
}
