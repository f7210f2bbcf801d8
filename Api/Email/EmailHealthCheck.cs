using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Email;

/// <summary>
/// The outbox in <c>/health/ready</c>: its pending and dead counts and the age of the oldest
/// pending message, and this instance's last delivery error while no attempt has succeeded since.
/// Degraded (still 200) when there are dead letters, when a pending message is older than
/// <c>Email:Delivery:MaxPendingAge</c>, when the relay refused our credentials, when the last
/// <see cref="DeliveryHealth.FailuresBeforeDegraded"/> attempts all failed, or while a send is
/// stalled on the relay; <c>reason</c> says which. An outbox that cannot be read is Unhealthy.
/// </summary>
internal sealed class EmailHealthCheck(Outbox outbox, DeliveryHealth delivery, IOptions<EmailOptions> options, TimeProvider time) : IHealthCheck
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

        var age = statistics.OldestPendingCreatedAt is { } created ? time.GetUtcNow() - created : TimeSpan.Zero;
        var data = new Dictionary<string, object>
        {
            ["pending"] = statistics.Pending,
            ["dead"] = statistics.Dead,
            ["oldestPendingSeconds"] = Math.Max(0, (long)age.TotalSeconds),
        };

        var recent = delivery.Current;
        if (recent.LastFailure is { } failure)
        {
            data["lastError"] = failure.Reason;
            data["lastErrorAt"] = recent.LastFailureAt.ToString("O", CultureInfo.InvariantCulture);
            data["consecutiveFailures"] = recent.ConsecutiveFailures;
            data["authenticationFailed"] = failure.Authentication;
        }

        var maxAge = options.Value.Delivery.MaxPendingAge;
        string? reason =
            recent.LastFailure is { Authentication: true } ? "The mail relay refuses our credentials (Email:Smtp:Username, Email:Smtp:Password)."
            : recent.Stalled is { } stalled ? $"Delivery is stalled: {stalled}."
            : recent.ConsecutiveFailures >= DeliveryHealth.FailuresBeforeDegraded ? $"The last {recent.ConsecutiveFailures} delivery attempts failed."
            : age > maxAge ? $"The oldest pending message has waited {(long)age.TotalMinutes} minutes (Email:Delivery:MaxPendingAge is {maxAge})."
            : statistics.Dead > 0 ? $"{statistics.Dead} message(s) could not be delivered."
            : null;
        if (reason is null)
        {
            return HealthCheckResult.Healthy(data: data);
        }

        data["reason"] = reason;
        return HealthCheckResult.Degraded(reason, data: data);
    }
}
