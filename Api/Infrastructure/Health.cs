using System.Text.Json;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Dapper;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: the database answers (else 503),
/// and the outbox's pending and dead counts and oldest pending age (dead letters: Degraded, still 200).
/// </summary>
public static class Health
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddApiHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<EmailHealthCheck>("email", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapApiHealthChecks(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Health").WithDisplayName("Liveness");
        routes.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithTags("Health").WithDisplayName("Readiness");
        return routes;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => (object)new Dictionary<string, object>(e.Value.Data) { ["status"] = e.Value.Status.ToString() }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }

    private sealed class DatabaseHealthCheck(Database database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                await connection.ExecuteScalarAsync<int>("SELECT 1;");
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy("The database does not answer.", ex);
            }
        }
    }

    private sealed class EmailHealthCheck(OutboxStore outbox, TimeProvider time) : IHealthCheck
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
}
