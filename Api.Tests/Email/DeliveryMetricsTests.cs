using System.Diagnostics.Metrics;
using Accounts.Api.Email;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Accounts.Api.Tests.Email;

public sealed class DeliveryMetricsTests
{
    [Fact]
    public async Task Sent_failed_dead_backlog_and_send_duration_are_measured()
    {
        await using var smtp = new TestSmtpServer { DataReply = n => Task.FromResult(n == 2 ? "554 5.7.1 Rejected" : null) };
        await using var app = TestOutbox.StartApp(smtp);
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var sent = new MetricCollector<long>(meters, DeliveryMetrics.MeterName, "accounts.email.sent");
        using var failed = new MetricCollector<long>(meters, DeliveryMetrics.MeterName, "accounts.email.failed");
        using var dead = new MetricCollector<long>(meters, DeliveryMetrics.MeterName, "accounts.email.dead");
        using var duration = new MetricCollector<double>(meters, DeliveryMetrics.MeterName, "accounts.email.send.duration");
        using var backlog = new MetricCollector<long>(meters, DeliveryMetrics.MeterName, "accounts.email.backlog");

        await TestOutbox.EnqueueAsync(app, 3);
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';") == 0, "all three are done");

        Assert.Equal(2, sent.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, failed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, dead.GetMeasurementSnapshot().EvaluateAsCounter());
        var durations = duration.GetMeasurementSnapshot();
        Assert.Equal(["failed", "sent", "sent"], durations.Select(m => m.Tags["outcome"] as string).Order());
        Assert.All(durations, m => Assert.True(m.Value > 0, $"a send over TCP takes time; {m.Value} s means it was not timed"));
        Assert.Equal("greeting", sent.LastMeasurement!.Tags["email.kind"]);

        backlog.RecordObservableInstruments();
        Assert.Equal(0, backlog.LastMeasurement!.Value);
        await smtp.StopListeningAsync();
        await TestOutbox.EnqueueAsync(app, 2);
        backlog.RecordObservableInstruments();
        Assert.Equal(2, backlog.LastMeasurement!.Value);
    }
}
