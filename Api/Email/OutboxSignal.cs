using System.Threading.Channels;

namespace Accounts.Api.Email;

/// <summary>
/// Wakes the delivery worker when a message is committed to the outbox. The outbox table is the
/// source of truth; this only says "look now" (one pending wake-up at most, carrying nothing), so
/// a wake-up that finds the worker busy loses nothing: its next claim finds what was committed.
/// </summary>
public sealed class OutboxSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>Announces committed outbox rows. Call it after the commit, never before.</summary>
    public void Notify() => _channel.Writer.TryWrite(true);

    /// <summary>Completes when a wake-up is pending (at once if one is).</summary>
    internal Task<bool> WaitAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken).AsTask();

    /// <summary>Takes the pending wake-up, if any: the claim that follows sees everything it announced.</summary>
    internal void Reset() => _channel.Reader.TryRead(out _);
}
