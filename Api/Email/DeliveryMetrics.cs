using System.Diagnostics.Metrics;

namespace Accounts.Api.Email;

/// <summary>
/// The delivery worker's instruments, on the meter <c>Accounts.Email</c>: messages sent, failed
/// attempts, messages parked as dead, the backlog of pending messages, and how long a send takes.
/// </summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "Accounts.Email";

    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dead;
    private readonly Histogram<double> _sendDuration;

    public DeliveryMetrics(IMeterFactory meters, Outbox store)
    {
        var meter = meters.Create(MeterName);
        _sent = meter.CreateCounter<long>("accounts.email.sent", "{message}", "Messages accepted by the SMTP server (or the configured transport).");
        _failed = meter.CreateCounter<long>("accounts.email.failed", "{attempt}", "Send attempts that failed; transient ones are retried.");
        _dead = meter.CreateCounter<long>("accounts.email.dead", "{message}", "Messages parked as dead: a permanent failure or too many attempts.");
        _sendDuration = meter.CreateHistogram<double>("accounts.email.send.duration", "s", "How long one message took to hand to the transport.");
        meter.CreateObservableGauge(
            "accounts.email.backlog",
            () => Backlog(store),
            "{message}",
            "Messages pending in the outbox, due or waiting for a retry.");
    }

    public void Sent(string kind, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("email.kind", kind);
        _sent.Add(1, tag);
        _sendDuration.Record(duration.TotalSeconds, tag, new("outcome", "sent"));
    }

    public void Failed(string kind, bool permanent, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("email.kind", kind);
        _failed.Add(1, tag, new("permanent", permanent));
        _sendDuration.Record(duration.TotalSeconds, tag, new("outcome", "failed"));
    }

    public void Dead(string kind) => _dead.Add(1, new KeyValuePair<string, object?>("email.kind", kind));

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
}
