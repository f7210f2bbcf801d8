using System.Threading.Channels;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Email;

/// <summary>
/// Drains the outbox as a pipeline that keeps every connection busy:
/// <list type="bullet">
/// <item>a claimer takes due rows with a lease, in chunks, whenever the in-process buffer has room
/// (at most <c>Email:Delivery:BatchSize</c> messages are held at once, so a backlog of any size
/// stays in the table, not in memory);</item>
/// <item><c>Email:Delivery:Connections</c> senders each take the next message, compose it (a feature's
/// <see cref="IEmailComposer"/> makes any token at this moment) and send it on their own reused
/// SMTP connection;</item>
/// <item>a recorder writes the outcomes, as many as have piled up, in one transaction.</item>
/// </list>
/// The signal wakes the claimer the moment a row is committed; a sweep on a timer, and one at
/// start, find whatever the signal did not announce. On shutdown no new message is started, the
/// sends in progress finish (or are cancelled when the host's shutdown timeout runs out), their
/// outcomes are recorded and every other claim is released.
/// <para>
/// This class is the hosted loop: the pipeline and its shutdown. Composing and sending one message
/// is <see cref="MessageSender"/>'s; claiming and recording is <see cref="DeliveryRecorder"/>'s;
/// waiting out a database that refuses writes is <see cref="DeliveryPause"/>'s. The sender loops
/// are the one limit on concurrent sends (the transport keeps as many connections as it is asked
/// to use at once).
/// </para>
/// </summary>
public sealed partial class EmailDeliveryService : BackgroundService
{
    private readonly Outbox _outbox;
    private readonly Database _database;
    private readonly OutboxSignal _signal;
    private readonly MessageSender _sender;
    private readonly DeliveryOptions _delivery;
    private readonly TimeProvider _time;
    private readonly ILogger<EmailDeliveryService> _logger;
    private readonly DeliveryPause _pause;
    private readonly DeliveryRecorder _recorder;

    /// <summary>Cancelled when the host's shutdown timeout runs out: sends in progress give up.</summary>
    private readonly CancellationTokenSource _abort = new();

    public EmailDeliveryService(
        Outbox outbox,
        Database database,
        OutboxSignal signal,
        MessageSender sender,
        IOptions<EmailOptions> options,
        TimeProvider time,
        ILogger<EmailDeliveryService> logger)
    {
        _outbox = outbox;
        _database = database;
        _signal = signal;
        _sender = sender;
        _delivery = options.Value.Delivery;
        _time = time;
        _logger = logger;
        _pause = new DeliveryPause(database, time, logger);
        _recorder = new DeliveryRecorder(outbox, _pause, _delivery.BatchSize, logger);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host's token fires when its shutdown timeout runs out: then the sends in progress are
        // cancelled, and ExecuteAsync still records what finished and releases the rest.
        await using var registration = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(CancellationToken.None);
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // On a database of its own, rows claimed before a crash or restart were this instance's:
        // take them back now. On a shared one they may be another's, sending right now: they
        // come back when their lease runs out.
        while (!_database.IsShared)
        {
            try
            {
                await _outbox.ReleaseLeasesAsync(everyOwner: true, stoppingToken);
                break;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await _pause.WaitAsync(fault, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }

        var queue = Channel.CreateBounded<OutboxMessage>(new BoundedChannelOptions(_delivery.BatchSize) { SingleWriter = true });
        var outcomes = Channel.CreateUnbounded<DeliveryOutcome>(new UnboundedChannelOptions { SingleReader = true });
        var senders = Enumerable.Range(0, _delivery.Connections)
            .Select(_ => Task.Run(() => SendLoopAsync(queue.Reader, outcomes.Writer, stoppingToken), CancellationToken.None))
            .ToArray();
        var recorder = Task.Run(() => _recorder.RecordLoopAsync(outcomes.Reader, stoppingToken), CancellationToken.None);
        try
        {
            await ClaimLoopAsync(queue.Writer, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            queue.Writer.TryComplete();
            await Task.WhenAll(senders);
            outcomes.Writer.TryComplete();
            await recorder;
            try
            {
                // Whatever this process claimed but did not finish goes back to the table, for
                // another instance now or this one's next start.
                await _outbox.ReleaseLeasesAsync(everyOwner: false, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The leases then run out on their own; the next start releases them anyway.
                LogLoopFailed(ex);
            }
        }
    }

    private async Task ClaimLoopAsync(ChannelWriter<OutboxMessage> queue, CancellationToken stoppingToken)
    {
        // Claim in chunks rather than one row at a time, but before the senders run dry.
        var chunk = Math.Max(1, Math.Min(_delivery.BatchSize / 2, _delivery.BatchSize - (2 * _delivery.Connections)));
        var claimedAt = _time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = true;
            try
            {
                _signal.Reset(); // the table is the truth: one claim below picks up everything announced

                var room = _delivery.BatchSize - _recorder.InFlight;
                if (room < chunk && _recorder.InFlight > 0)
                {
                    // Busy: wait for the recorder to free room.
                    await _recorder.RoomFreed.WaitToReadAsync(stoppingToken);
                    _recorder.RoomFreed.TryRead(out _);
                    continue;
                }

                claimedAt = _time.GetUtcNow();
                var batch = await _recorder.ClaimAsync(room, _delivery.Lease, stoppingToken);
                foreach (var message in batch)
                {
                    await queue.WriteAsync(message, stoppingToken);
                }

                idle = batch.Count < room;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await _pause.WaitAsync(fault, stoppingToken);
                continue;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A database hiccup must not end delivery: log it and wait for the next sweep.
                LogLoopFailed(ex);
            }

            if (idle)
            {
                await WaitForWorkAsync(claimedAt, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Waits for a new message, a recorded outcome, the next scheduled retry or the sweep, whichever
    /// comes first. The next retry is the first one due after <paramref name="claimedAt"/>, the last
    /// claim's moment: one that fell due since (a short backoff) makes this return at once, while
    /// one that was already due then and still not claimed (an event waiting for an earlier one of
    /// its account) does not wake the loop again and again.
    /// </summary>
    private async Task WaitForWorkAsync(DateTimeOffset claimedAt, CancellationToken stoppingToken)
    {
        var wait = _delivery.SweepInterval;
        try
        {
            var now = _time.GetUtcNow();
            if (await _outbox.NextDueAfterAsync(claimedAt, stoppingToken) is { } due && due - now < wait)
            {
                wait = due - now;
                if (wait <= TimeSpan.Zero)
                {
                    return;
                }
            }
        }
        catch (StorageUnavailableException)
        {
            // The next claim meets the fault too, and pauses delivery (logging it once).
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogLoopFailed(ex);
        }

        // A real-time timer: with a fake clock in tests, the sweep still comes round.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        linked.CancelAfter(wait);
        try
        {
            await Task.WhenAny(
                _signal.WaitAsync(linked.Token),
                _recorder.RoomFreed.WaitToReadAsync(linked.Token).AsTask());
            _recorder.RoomFreed.TryRead(out _);
        }
        finally
        {
            await linked.CancelAsync();
        }

        stoppingToken.ThrowIfCancellationRequested();
    }

    private async Task SendLoopAsync(ChannelReader<OutboxMessage> queue, ChannelWriter<DeliveryOutcome> outcomes, CancellationToken stoppingToken)
    {
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            while (queue.TryRead(out var message))
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    // Not started: its claim is released at the end of the shutdown.
                    _recorder.Forget(message.Id);
                    continue;
                }

                if (await _sender.DeliverAsync(message, _abort.Token) is { } outcome)
                {
                    outcomes.TryWrite(outcome);
                }
                else
                {
                    _recorder.Forget(message.Id);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The delivery loop failed; it will try again at the next sweep")]
    private partial void LogLoopFailed(Exception exception);
}
