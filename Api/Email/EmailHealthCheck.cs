using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Accounts.Api.Email;

/// <summary>
/// The outbox in <c>/health/ready</c>: its pending and dead counts and the age of the oldest
/// pending message; dead letters make it Degraded (still 200), an outbox that cannot be read Unhealthy.
/// </summary>
internal sealed class EmailHealthCheck(Outbox outbox, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        OutboxStatistics statistics;
        try
        {
            statistics = await outbox.GetStatisticsAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("The outbox cannot be read.", ex);
        }

        var oldest = statistics.OldestPendingCreatedAt is { } created
            ? Math.Max(0, (long)(time.GetUtcNow() - created).TotalSeconds)
            : 0;
        var data = new Dictionary<string, object>
        {
            ["pending"] = statistics.Pending,
            ["dead"] = statistics.Dead,
            ["oldestPendingSeconds"] = oldest,
        };
        return statistics.Dead > 0
            ? HealthCheckResult.Degraded($"{statistics.Dead} message(s) could not be delivered.", data: data)
            : HealthCheckResult.Healthy(data: data);
    }
}
