using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Accounts.Api.Email;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// OpenTelemetry over the real app: spans caught by the SDK's in-memory exporter, and <c>GET /metrics</c>
/// read by the Prometheus project's own parser of its text format (Debian's <c>python3-prometheus-client</c>).
/// </summary>
public sealed class TelemetryTests
{
    private const string Spa = "https://spa.example.test";

    [Fact]
    public async Task A_registrations_mail_is_sent_in_a_span_linked_to_the_request_that_queued_it_with_the_database_write_in_the_requests_trace()
    {
        var spans = new LockedList<Activity>();
        await using var app = TestApp.Start(
            new TestSmtpServer(), services: s => s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("alice", "alice@example.com")).StatusCode);
        await app.Smtp!.WaitForMailAsync("alice@example.com");

        Activity? send = null;
        await Eventually.TrueAsync(
            () => Task.FromResult((send = spans.Snapshot().FirstOrDefault(s => IsSend(s, app))) is not null),
            "the send span is exported");
        var all = spans.Snapshot();
        var request = Assert.Single(all, s => IsRequest(s, app, "/register"));
        Assert.Equal(202, request.GetTagItem("http.response.status_code"));

        // The send has a trace of its own, linked to the request's span that wrote the row.
        Assert.NotEqual(request.TraceId, send!.TraceId);
        var link = Assert.Single(send.Links);
        Assert.Equal(request.TraceId, link.Context.TraceId);
        Assert.Equal(ActivityKind.Client, send.Kind);
        Assert.Equal("activation", send.GetTagItem("email.kind"));
        Assert.Equal("sent", send.GetTagItem("email.outcome"));
        Assert.Contains(all, s => s.OperationName == "email compose" && s.ParentSpanId == send.SpanId);

        // The registration's write is a span in the request's trace, and the link names it.
        var write = Assert.Single(all, s => s.OperationName == "db write" && s.TraceId == request.TraceId);
        Assert.Equal(write.SpanId, link.Context.SpanId);
        Assert.Equal(TestStorage.IsPostgres ? "postgresql" : "sqlite", write.GetTagItem("db.system.name"));
        if (TestStorage.IsPostgres)
        {
            // Npgsql's own spans sit under it.
            Assert.Contains(all, s => s.Source.Name == "Npgsql" && s.TraceId == request.TraceId);
        }
    }

    [Fact]
    public async Task A_mail_in_flight_when_the_app_stops_is_sent_after_the_restart_in_a_span_linked_to_the_request_before_it()
    {
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start(); // accepts connections and never answers: the send hangs until the app stops
        var before = new LockedList<Activity>();
        await using var first = TestApp.Start(smtp: null, new Dictionary<string, string?>
        {
            ["Email:Transport"] = "Smtp",
            ["Email:Smtp:Port"] = ((IPEndPoint)blackHole.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email:Smtp:Timeout"] = "00:05:00",
        }, services: s =>
        {
            s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
            s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(before));
        });
        await first.RegisterAsync("alice", "alice@example.com");
        await Eventually.TrueAsync(
            async () => await first.ScalarAsync<long?>("SELECT lease_until FROM outbox;") is not null,
            "the worker has claimed the mail");
        await first.StopAsync();
        var request = Assert.Single(before.Snapshot(), s => IsRequest(s, first, "/register"));

        var after = new LockedList<Activity>();
        await using var second = TestApp.Start(
            new TestSmtpServer(), directory: first.Directory, services: s => s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(after)));
        await second.Smtp!.WaitForMailAsync("alice@example.com");
        Activity? send = null;
        await Eventually.TrueAsync(
            () => Task.FromResult((send = after.Snapshot().FirstOrDefault(s => IsSend(s, second) && (string?)s.GetTagItem("email.outcome") == "sent")) is not null),
            "the send span after the restart is exported");
        Assert.Equal(request.TraceId, Assert.Single(send!.Links).Context.TraceId);
    }

    [Fact]
    public async Task A_message_queued_outside_any_trace_is_sent_without_a_link()
    {
        var spans = new LockedList<Activity>();
        await using var app = TestApp.Start(
            new TestSmtpServer(), services: s => s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));
        await app.ExecuteAsync("""
            INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at, traceparent)
            VALUES ('activation', '["ghost@example.com"]', NULL, 'en', 'pending', 0, 0, 0, 'not a traceparent');
            """);
        app.Services.GetRequiredService<OutboxSignal>().Notify();
        Activity? send = null;
        await Eventually.TrueAsync(
            () => Task.FromResult((send = spans.Snapshot().FirstOrDefault(s => IsSend(s, app))) is not null),
            "the send span is exported");
        Assert.Empty(send!.Links);
    }

    [Fact]
    public async Task Metrics_are_off_by_default()
    {
        await using var app = TestApp.Start(smtp: null);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/metrics")).StatusCode);
    }

    // In a process of its own: a MeterProvider listens to every meter of its name in the process,
    // so in the test process it would count other tests' mails too.
    [LinuxFact]
    public async Task With_Metrics_Prometheus_the_scrape_endpoint_serves_text_the_reference_parser_reads_with_the_delivery_counters_and_no_CORS()
    {
        await using var smtp = new TestSmtpServer();
        using var folder = new TemporaryDatabase("accounts-metrics-");
        var settings = TestSettings.Defaults(folder.Directory, smtp.Port);
        settings["Metrics:Prometheus"] = "true";
        settings["Cors:AllowedOrigins:0"] = Spa;
        await using var api = await ApiProcess.StartServerAsync(folder.Directory, settings);
        using var client = new HttpClient { BaseAddress = api.BaseAddress };
        var register = await client.PostAsJsonAsync("/register", new
        {
            username = "alice",
            email = "alice@example.com",
            password = TestData.StrongPassword,
            confirmPassword = TestData.StrongPassword,
        });
        Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
        await smtp.WaitForMailAsync("alice@example.com");

        // The counter is added once the SMTP reply is in, and the exporter may answer from a scrape it cached: scrape until it shows.
        IReadOnlyList<Sample> samples = [];
        await Eventually.TrueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Add("Origin", Spa);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            // A page on an allowed origin may call the API, but may not read the metrics.
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
            samples = await ParseAsync(await response.Content.ReadAsStringAsync());
            return samples.Any(s => s.Name == "accounts_email_sent_total");
        }, "the delivery counter is scraped");

        var sent = Assert.Single(samples, s => s.Name == "accounts_email_sent_total");
        Assert.Equal("activation", sent.Labels["email_kind"]);
        Assert.Equal(1, sent.Value);
        Assert.Contains(samples, s => s.Name == "accounts_email_backlog");
        Assert.Contains(samples, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal)
            && s.Labels.GetValueOrDefault("http_route") == "/register");

        // The API itself still answers that origin.
        using var live = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        live.Headers.Add("Origin", Spa);
        Assert.Equal(Spa, (await client.SendAsync(live)).Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    // An exporter sees the spans of every app in the test process: these pick out one app's.
    private static bool IsRequest(Activity span, TestApp app, string path) =>
        span.Kind == ActivityKind.Server && (string?)span.GetTagItem("url.path") == path && Equals(span.GetTagItem("server.port"), app.BaseAddress.Port);

    private static bool IsSend(Activity span, TestApp app) =>
        span.OperationName == "email send" && (string?)span.GetTagItem("outbox.owner") == app.Services.GetRequiredService<Outbox>().LeaseOwner;

    /// <summary>The samples <c>prometheus_client.parser</c> reads in <paramref name="text"/>; it throws on anything not in the format.</summary>
    private static async Task<IReadOnlyList<Sample>> ParseAsync(string text)
    {
        const string script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            print(json.dumps([{"name": s.name, "labels": s.labels, "value": s.value}
                              for family in text_string_to_metric_families(sys.stdin.read()) for s in family.samples]))
            """;
        var (exitCode, output, error) = await NodeTools.ExecuteAsync("/usr/bin/python3", ["-c", script], text, TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"prometheus_client could not parse /metrics: {error}\n{text}");
        return JsonSerializer.Deserialize<List<Sample>>(output, JsonSerializerOptions.Web)!;
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    /// <summary>The exporter adds from the threads that end spans; the test reads copies.</summary>
    internal sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public T[] Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
