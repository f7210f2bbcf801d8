using System.Diagnostics.Metrics;

namespace Accounts.Api.Email;

/// <summary>
/// The delivery worker's instruments, on the meter <c>Accounts.Email</c>: messages sent, failed
/// attempts, messages parked as dead, the backlog of pending messages, and how long a send takes;
/// mail as <c>accounts.email.*</c> (tag <c>email.kind</c>), webhooks as <c>accounts.webhooks.*</c>
/// (tag <c>webhook.type</c>).
/// </summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "Accounts.Email";

    private readonly Instruments _email;
    private readonly Instruments _webhooks;

    public DeliveryMetrics(IMeterFactory meters, Outbox store)
    {
        var meter = meters.Create(MeterName);
        _email = new Instruments(
            "email.kind",
            meter.CreateCounter<long>("accounts.email.sent", "{message}", "Messages accepted by the SMTP server (or the configured transport)."),
            meter.CreateCounter<long>("accounts.email.failed", "{attempt}", "Send attempts that failed; transient ones are retried."),
            meter.CreateCounter<long>("accounts.email.dead", "{message}", "Messages parked as dead: a permanent failure or too many attempts."),
            meter.CreateHistogram<double>("accounts.email.send.duration", "s", "How long one message took to hand to the transport."));
        _webhooks = new Instruments(
            "webhook.type",
            meter.CreateCounter<long>("accounts.webhooks.sent", "{event}", "Events an endpoint answered with a 2xx."),
            meter.CreateCounter<long>("accounts.webhooks.failed", "{attempt}", "POSTs that failed; transient ones are retried."),
            meter.CreateCounter<long>("accounts.webhooks.dead", "{event}", "Events parked as dead: a permanent failure or too many attempts."),
            meter.CreateHistogram<double>("accounts.webhooks.send.duration", "s", "How long one POST took to its answer."));
        meter.CreateObservableGauge(
            "accounts.email.backlog",
            () => Backlog(store),
            "{message}",
            "Messages and events pending in the outbox, due or waiting for a retry.");
    }

    public void Sent(OutboxMessage message, TimeSpan duration)
    {
        var (instruments, tag) = For(message);
        instruments.Sent.Add(1, tag);
        instruments.Duration.Record(duration.TotalSeconds, tag, new("outcome", "sent"));
    }

    public void Failed(OutboxMessage message, bool permanent, TimeSpan duration)
    {
        var (instruments, tag) = For(message);
        instruments.Failed.Add(1, tag, new("permanent", permanent));
        instruments.Duration.Record(duration.TotalSeconds, tag, new("outcome", "failed"));
    }

    public void Dead(OutboxMessage message)
    {
        var (instruments, tag) = For(message);
        instruments.Dead.Add(1, tag);
    }

    private (Instruments, KeyValuePair<string, object?>) For(OutboxMessage message)
    {
        var instruments = message.Transport == OutboxTransports.Webhook ? _webhooks : _email;
        return (instruments, new KeyValuePair<string, object?>(instruments.KindTag, message.Kind));
    }

    private static IEnumerable<Measurement<long>> Backlog(Outbox store)
    {
        long pending;
        try
        {
            pending = store.CountPending();
        }
        catch (Exception)
        {
            // The health check reports an unreadable database; a gauge just skips this reading.
            yield break;
        }

        yield return new Measurement<long>(pending);
    }

    private sealed record Instruments(string KindTag, Counter<long> Sent, Counter<long> Failed, Counter<long> Dead, Histogram<double> Duration);
}
