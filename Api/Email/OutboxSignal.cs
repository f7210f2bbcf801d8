using System.Threading.Channels;

namespace Accounts.Api.Email;

/// <summary>
/// Wakes the delivery worker when a message is committed to the outbox. The outbox table is the
/// source of truth; this bounded channel only says "look now", so a full channel loses nothing:
/// the worker's next sweep finds what was not announced.
/// </summary>
public sealed class OutboxSignal
{
    private readonly Channel<long> _channel = Channel.CreateBounded<long>(new BoundedChannelOptions(1024)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>Announces a committed outbox row. Call it after the commit, never before.</summary>
    public void Notify(long outboxId) => _channel.Writer.TryWrite(outboxId);

    internal ChannelReader<long> Reader => _channel.Reader;
}
