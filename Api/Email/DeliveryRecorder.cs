using System.Collections.Concurrent;
using System.Threading.Channels;
using Accounts.Api.Storage;

namespace Accounts.Api.Email;

/// <summary>
/// The claims' side of delivery: which rows this process holds (claimed and not yet recorded, so
/// never claimed twice, even when a lease runs out), and the recorder that writes their outcomes,
/// as many as have piled up, in one transaction. Each recorded batch frees room, and says so on
/// <see cref="RoomFreed"/>.
/// </summary>
internal sealed partial class DeliveryRecorder(Outbox outbox, DeliveryPause pause, int batchSize, ILogger logger)
{
    /// <summary>How long the recorder lets outcomes gather before it commits them together.</summary>
    private static readonly TimeSpan RecordLinger = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentDictionary<long, byte> _inFlight = new();
    private readonly Channel<bool> _roomFreed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>How many claimed messages are not recorded yet.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Readable when a batch of outcomes was recorded (capacity freed, or a retry scheduled).</summary>
    public ChannelReader<bool> RoomFreed => _roomFreed.Reader;

    /// <summary>
    /// Claims up to <paramref name="room"/> due messages for <paramref name="lease"/>; rows whose
    /// last attempt is still being recorded are due again only once the recorder lets go of them.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(int room, TimeSpan lease, CancellationToken stoppingToken)
    {
        var batch = await outbox.ClaimDueAsync(room, lease, [.. _inFlight.Keys], stoppingToken);
        if (batch.Count > 0)
        {
            // A claim that leased nothing wrote nothing, and proves nothing about a full disk.
            pause.Recovered();
        }

        return [.. batch.Where(message => _inFlight.TryAdd(message.Id, 0))];
    }

    /// <summary>A claimed message that will not be recorded (never started, or its send was cancelled): its lease is released at shutdown.</summary>
    public void Forget(long id) => _inFlight.TryRemove(id, out _);

    /// <summary>Records outcomes until <paramref name="outcomes"/> completes.</summary>
    public async Task RecordLoopAsync(ChannelReader<DeliveryOutcome> outcomes, CancellationToken stoppingToken)
    {
        var batch = new List<DeliveryOutcome>();
        while (await outcomes.WaitToReadAsync(CancellationToken.None))
        {
            // Let a few more outcomes join before committing: one commit (one fsync) per many
            // messages. The mails are already out; only their "sent" mark waits these milliseconds.
            using (var linger = new CancellationTokenSource(RecordLinger))
            {
                while (batch.Count < batchSize)
                {
                    if (outcomes.TryRead(out var outcome))
                    {
                        batch.Add(outcome);
                        continue;
                    }

                    try
                    {
                        if (!await outcomes.WaitToReadAsync(linger.Token))
                        {
                            break;
                        }
                    }
                    catch (OperationCanceledException) when (linger.IsCancellationRequested)
                    {
                        break;
                    }
                }
            }

            await RecordAsync(batch, stoppingToken);
            foreach (var outcome in batch)
            {
                _inFlight.TryRemove(outcome.Id, out _);
            }

            batch.Clear();
            _roomFreed.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// Records <paramref name="batch"/>. While the database refuses writes the outcomes wait here,
    /// for as long as it takes (their rows stay leased to this process, which does not claim them
    /// again while they are in flight); only on shutdown, or after a few failures of another kind,
    /// does it give up, and then the rows' leases run out (or the next start releases them) and
    /// they are sent again: at least once.
    /// </summary>
    private async Task RecordAsync(List<DeliveryOutcome> batch, CancellationToken stoppingToken)
    {
        var failures = 0;
        while (true)
        {
            try
            {
                await outbox.RecordAsync(batch, CancellationToken.None);
                pause.Recovered();
                return;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await pause.WaitAsync(fault, stoppingToken);
                continue;
            }
            catch (Exception ex)
            {
                LogRecordFailed(ex, batch.Count);
                if (++failures >= 5)
                {
                    return;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * failures), CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording {Count} delivery outcome(s) failed")]
    private partial void LogRecordFailed(Exception exception, int count);
}
