using System.Diagnostics;
using Microsoft.AspNetCore.Cors;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// The app's own spans (<see cref="Source"/>): database writes (SQLite has no instrumentation of
/// its own), outbox claims, composing and sending. Every span of one request, and the send of a
/// mail it queued, can be followed through <c>traceparent</c>.
/// </summary>
public static class Telemetry
{
    public const string SourceName = "Accounts.Api";

    /// <summary>The <c>service.name</c> unless <c>OTEL_SERVICE_NAME</c> (or <c>OTEL_RESOURCE_ATTRIBUTES</c>) says otherwise.</summary>
    public const string ServiceName = "accounts-api";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The meters of the app's own metrics, exported with ASP.NET Core's, Kestrel's and Npgsql's.</summary>
    public static readonly string[] Meters = [Email.DeliveryMetrics.MeterName, Housekeeping.Housekeeper.MeterName];

    /// <summary>The current span's W3C <c>traceparent</c>, to keep with work done later (an outbox row); null outside any sampled span.</summary>
    public static string? CurrentTraceparent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } current ? current.Id : null;

    /// <summary>A link to the span a <c>traceparent</c> names, or none when it is missing or malformed.</summary>
    public static IEnumerable<ActivityLink> LinkTo(string? traceparent) =>
        ActivityContext.TryParse(traceparent, null, isRemote: true, out var context) ? [new ActivityLink(context)] : [];
}

public static class TelemetryExtensions
{
    /// <summary>
    /// OpenTelemetry's SDK: traces of ASP.NET Core, Npgsql and <see cref="Telemetry.Source"/>;
    /// metrics of ASP.NET Core, Kestrel, Npgsql and <see cref="Telemetry.Meters"/>. Exported over
    /// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (with the other <c>OTEL_*</c> variables the
    /// SDK reads), and as Prometheus text at <c>GET /metrics</c> when <c>Metrics:Prometheus</c> is true.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(Telemetry.ServiceName))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddNpgsql()
                .AddSource(Telemetry.SourceName))
            // The Prometheus reader is always there (it collects only when scraped); MapMetrics
            // serves it when the setting, read once the configuration is complete, asks for it.
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter("Npgsql")
                .AddMeter(Telemetry.Meters)
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> when <c>Metrics:Prometheus</c> is true: for a scraper, not a browser, so
    /// outside CORS (no origin may read it from a page), rate limits and the OpenAPI document.
    /// </summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        if (PrometheusEnabled(app.Configuration))
        {
            app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new DisableCorsAttribute()).DisableRateLimiting().ExcludeFromDescription();
        }

        return app;
    }

    private static bool PrometheusEnabled(IConfiguration configuration) => configuration.GetValue("Metrics:Prometheus", false);
}
