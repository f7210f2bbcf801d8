using System.ComponentModel.DataAnnotations;
using Accounts.Api.Storage;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: the database answers and takes
/// writes (else 503, so a load balancer stops sending requests that would only get a 503), and
/// every check a feature adds with <see cref="ReadyTag"/> (the outbox's, in <c>Email/</c>).
/// </summary>
public static class Health
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs; a feature adds its own with it.</summary>
    public const string ReadyTag = "ready";

    public static IServiceCollection AddApiHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapApiHealthChecks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", () => TypedResults.Ok(new HealthResponse("Healthy", new Dictionary<string, Dictionary<string, object>>())))
            .WithName("Live")
            .WithSummary("The process answers")
            .WithDescription("Always 200 while the process runs; it looks at nothing else, so a restart is the only cure it asks for.");
        group.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("The database answers and takes writes; the outbox's pending and dead counts")
            .WithDescription("A check's trouble that delivery can wait out makes the status Degraded, still 200, with the check's `reason`: for `email`, "
                + "dead letters, a pending message older than `Email:Delivery:MaxPendingAge`, the relay refusing our credentials (`authenticationFailed`), "
                + "the last attempts all failing, or a send stalled on the relay; `lastError` is this instance's last delivery error while none has succeeded since. "
                + "A database that cannot be read or cannot take writes is a 503.")
            .Produces<HealthResponse>()
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithResponseExample(StatusCodes.Status200OK, new HealthResponse("Healthy", new()
            {
                ["database"] = new() { ["writable"] = true, ["status"] = "Healthy" },
                ["email"] = new() { ["pending"] = 0, ["dead"] = 0, ["oldestPendingSeconds"] = 0, ["status"] = "Healthy" },
            }))
            .WithResponseExample(StatusCodes.Status503ServiceUnavailable, new HealthResponse("Unhealthy", new()
            {
                ["database"] = new() { ["writable"] = false, ["reason"] = "the disk is full", ["status"] = "Unhealthy" },
                ["email"] = new() { ["pending"] = 12, ["dead"] = 0, ["oldestPendingSeconds"] = 41, ["status"] = "Healthy" },
            }));
        return routes;
    }

    public static async Task<JsonHttpResult<HealthResponse>> Ready(HealthCheckService health, HttpContext context)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(ReadyTag), context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        var body = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(
                e => e.Key,
                e => new Dictionary<string, object>(e.Value.Data) { ["status"] = e.Value.Status.ToString() }));
        return TypedResults.Json(body, statusCode: report.Status == HealthStatus.Unhealthy
            ? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status200OK);
    }

    /// <summary>The overall status (Healthy, Degraded, Unhealthy) and each check's status and figures.</summary>
    public sealed record HealthResponse(
        [property: AllowedValues("Healthy", "Degraded", "Unhealthy")] string Status, Dictionary<string, Dictionary<string, object>> Checks);

    private sealed class DatabaseHealthCheck(Database database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var version = await database.GetSchemaVersionAsync(cancellationToken);
                if (version != database.LatestSchemaVersion)
                {
                    return HealthCheckResult.Unhealthy($"The database is at schema version {version}, not {database.LatestSchemaVersion}.");
                }

                // Readable is not enough: a full disk or a read-only file still answers reads.
                if (await database.ProbeWritesAsync(cancellationToken))
                {
                    return HealthCheckResult.Healthy(data: new Dictionary<string, object> { ["writable"] = true });
                }

                var reason = database.WriteFault?.Reason ?? "the last write failed";
                return HealthCheckResult.Unhealthy(
                    $"The database cannot take writes: {reason}.",
                    data: new Dictionary<string, object> { ["writable"] = false, ["reason"] = reason });
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy("The database does not answer.", ex);
            }
        }
    }
}
