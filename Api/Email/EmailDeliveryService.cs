using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;
using MimeKit;

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
/// The channel wakes the claimer the moment a row is committed; a sweep on a timer, and one at
/// start, find whatever the channel did not announce. On shutdown no new message is started, the
/// sends in progress finish (or are cancelled when the host's shutdown timeout runs out), their
/// outcomes are recorded and every other claim is released.
/// <para>
/// When the database cannot take the worker's writes (<see cref="StorageUnavailableException"/>:
/// a full disk, an unreachable server), the worker pauses instead of spinning: a warning when it
/// begins, waits from 1 s doubling to 1 min between tries (<see cref="StorageBackoff"/>), cut short
/// the moment any write gets through, and a line when it is over. Outcomes it could not record are
/// kept and recorded then; a message whose composing could not be written is given back untried.
/// </para>
/// </summary>
public sealed partial class EmailDeliveryService(
    IServiceScopeFactory scopes,
    Outbox store,
    Database database,
    OutboxSignal signal,
    IEmailTransport transport,
    DeliveryMetrics metrics,
    IOptions<EmailOptions> emailOptions,
    IOptions<PublicUrlOptions> urlOptions,
    TimeProvider time,
    ILogger<EmailDeliveryService> logger) : BackgroundService
{
    private readonly EmailOptions _options = emailOptions.Value;
    private readonly string _fromAddress = emailOptions.Value.From ?? $"no-reply@{urlOptions.Value.BaseUri.Host}";

    /// <summary>How long the recorder lets outcomes gather before it commits them together.</summary>
    private static readonly TimeSpan RecordLinger = TimeSpan.FromMilliseconds(10);

    /// <summary>Ids claimed by this process and not yet recorded: never claimed twice, even when a lease runs out.</summary>
    private readonly ConcurrentDictionary<long, byte> _inFlight = new();

    /// <summary>Capacity freed or a retry scheduled: the claimer looks again.</summary>
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Cancelled when the host's shutdown timeout runs out: sends in progress give up.</summary>
    private readonly CancellationTokenSource _abort = new();

    /// <summary>How long to wait while the database refuses writes.</summary>
    private readonly StorageBackoff _storage = new(time);

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
        var delivery = _options.Delivery;
        // On a database of its own, rows claimed before a crash or restart were this instance's:
        // take them back now. On a shared one they may be another's, sending right now: they
        // come back when their lease runs out.
        while (!database.IsShared)
        {
            try
            {
                await store.ReleaseLeasesAsync(everyOwner: true, stoppingToken);
                break;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await PauseForStorageAsync(fault, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }

        var queue = Channel.CreateBounded<OutboxMessage>(new BoundedChannelOptions(delivery.BatchSize) { SingleWriter = true });
        var outcomes = Channel.CreateUnbounded<DeliveryOutcome>(new UnboundedChannelOptions { SingleReader = true });
        var senders = Enumerable.Range(0, delivery.Connections)
            .Select(_ => Task.Run(() => SendLoopAsync(queue.Reader, outcomes.Writer, stoppingToken), CancellationToken.None))
            .ToArray();
        var recorder = Task.Run(() => RecordLoopAsync(outcomes.Reader, stoppingToken), CancellationToken.None);
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
                await store.ReleaseLeasesAsync(everyOwner: false, CancellationToken.None);
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
        var delivery = _options.Delivery;
        // Claim in chunks rather than one row at a time, but before the senders run dry.
        var chunk = Math.Max(1, Math.Min(delivery.BatchSize / 2, delivery.BatchSize - (2 * delivery.Connections)));
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = true;
            try
            {
                while (signal.Reader.TryRead(out _))
                {
                    // The table is the truth: one claim below picks up everything announced.
                }

                var room = delivery.BatchSize - _inFlight.Count;
                if (room < chunk && !_inFlight.IsEmpty)
                {
                    // Busy: wait for the recorder to free room.
                    await _wake.Reader.WaitToReadAsync(stoppingToken);
                    _wake.Reader.TryRead(out _);
                    continue;
                }

                // Ids whose last attempt is still being recorded are due again only once the recorder lets go of them.
                var batch = await store.ClaimDueAsync(room, delivery.Lease, [.. _inFlight.Keys], stoppingToken);
                if (batch.Count > 0)
                {
                    // A claim that leased nothing wrote nothing, and proves nothing about a full disk.
                    StorageRecovered();
                }

                foreach (var message in batch)
                {
                    if (_inFlight.TryAdd(message.Id, 0))
                    {
                        await queue.WriteAsync(message, stoppingToken);
                    }
                }

                idle = batch.Count < room;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await PauseForStorageAsync(fault, stoppingToken);
                continue;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A database hiccup must not end delivery: log it and wait for the next sweep.
                LogLoopFailed(ex);
            }

            if (idle)
            {
                await WaitForWorkAsync(delivery.SweepInterval, stoppingToken);
            }
        }
    }

    /// <summary>Waits for a new message, a recorded outcome, the next scheduled retry or the sweep, whichever comes first.</summary>
    private async Task WaitForWorkAsync(TimeSpan sweepInterval, CancellationToken stoppingToken)
    {
        var wait = sweepInterval;
        try
        {
            var now = time.GetUtcNow();
            if (await store.NextDueAfterAsync(now, stoppingToken) is { } due && due - now < wait)
            {
                wait = due - now;
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
                signal.Reader.WaitToReadAsync(linked.Token).AsTask(),
                _wake.Reader.WaitToReadAsync(linked.Token).AsTask());
            _wake.Reader.TryRead(out _);
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
                    _inFlight.TryRemove(message.Id, out _);
                    continue;
                }

                if (await DeliverAsync(message, _abort.Token) is { } outcome)
                {
                    outcomes.TryWrite(outcome);
                }
                else
                {
                    _inFlight.TryRemove(message.Id, out _);
                }
            }
        }
    }

    private async Task RecordLoopAsync(ChannelReader<DeliveryOutcome> outcomes, CancellationToken stoppingToken)
    {
        var batch = new List<DeliveryOutcome>();
        while (await outcomes.WaitToReadAsync(CancellationToken.None))
        {
            // Let a few more outcomes join before committing: one commit (one fsync) per many
            // messages. The mails are already out; only their "sent" mark waits these milliseconds.
            using (var linger = new CancellationTokenSource(RecordLinger))
            {
                while (batch.Count < _options.Delivery.BatchSize)
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
            _wake.Writer.TryWrite(true);
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
                await store.RecordAsync(batch, CancellationToken.None);
                StorageRecovered();
                return;
            }
            catch (StorageUnavailableException fault) when (!stoppingToken.IsCancellationRequested)
            {
                await PauseForStorageAsync(fault, stoppingToken);
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

    /// <summary>
    /// Waits after a write the database refused: logs when this begins a pause, then waits the
    /// backoff's delay, less if a write gets through meanwhile (a request's, or readiness's probe)
    /// or the worker is stopping.
    /// </summary>
    private async Task PauseForStorageAsync(StorageUnavailableException fault, CancellationToken stoppingToken)
    {
        var (loud, delay) = _storage.Failed();
        if (loud)
        {
            LogStoragePaused(fault.Reason);
        }

        LogStorageStillFailing(fault.Reason, delay);

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            await Task.WhenAny(Task.Delay(delay, time, linked.Token), database.WhenWritable.WaitAsync(linked.Token));
        }
        finally
        {
            await linked.CancelAsync();
        }
    }

    /// <summary>A write of the worker's got through: a pause, if there was one, is over.</summary>
    private void StorageRecovered()
    {
        if (_storage.Succeeded() is var (lasted, loud))
        {
            LogStorageResumed(loud ? LogLevel.Information : LogLevel.Debug, lasted);
        }
    }

    /// <summary>Composes and sends one message; returns what to record, or null when the send was cancelled.</summary>
    private async Task<DeliveryOutcome?> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var composer = scope.ServiceProvider.GetKeyedService<IEmailComposer>(message.Kind);
            if (composer is null)
            {
                LogDead(message.Id, message.Kind, "unknown kind");
                metrics.Dead(message.Kind);
                return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Dead, $"No composer is registered for kind '{message.Kind}'.");
            }

            var content = await composer.ComposeAsync(message, cancellationToken);
            if (content is null)
            {
                LogSkipped(message.Id, message.Kind);
                return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Skipped);
            }

            await transport.SendAsync(Build(message, content), content.ActionUrl, cancellationToken);
            metrics.Sent(message.Kind, Stopwatch.GetElapsedTime(started));
            LogSent(message.Id, message.Kind, message.Recipients.Count);
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Sent);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down; the lease is released and the row goes out after the restart.
            return null;
        }
        catch (StorageUnavailableException)
        {
            // Composing needed a write the database refused (a new token): nothing was sent, so no
            // attempt is counted; the row goes back as it was, for when the database takes writes.
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Released);
        }
        catch (Exception ex)
        {
            var failure = DeliveryFailure.From(ex);
            metrics.Failed(message.Kind, failure.Permanent, Stopwatch.GetElapsedTime(started));
            return Failed(message, failure);
        }
    }

    private DeliveryOutcome Failed(OutboxMessage message, DeliveryFailure failure)
    {
        var attempt = message.Attempts + 1;
        if (failure.Permanent || attempt >= _options.Delivery.MaxAttempts)
        {
            LogDead(message.Id, message.Kind, failure.Reason);
            metrics.Dead(message.Kind);
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Dead, failure.Reason);
        }

        var delay = Backoff(attempt, _options.Delivery);
        LogRetry(message.Id, message.Kind, attempt, delay, failure.Reason);
        return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Retry, failure.Reason, time.GetUtcNow() + delay);
    }

    /// <summary>Exponential backoff from <c>InitialBackoff</c>, doubling per attempt up to <c>MaxBackoff</c>, with ±25% jitter.</summary>
    internal static TimeSpan Backoff(int attempt, DeliveryOptions options)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var nominal = Math.Min(options.InitialBackoff.TotalMilliseconds * Math.Pow(2, exponent), options.MaxBackoff.TotalMilliseconds);
        var jittered = nominal * (0.75 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, options.MaxBackoff.TotalMilliseconds));
    }

    private MimeMessage Build(OutboxMessage message, EmailContent content) => Build(_options.FromName, _fromAddress, message, content);

    /// <summary>
    /// The MIME message. Every address is a new object: an address list subscribes to its members'
    /// change events, so one shared sender address would keep every message ever built alive.
    /// </summary>
    internal static MimeMessage Build(string fromName, string fromAddress, OutboxMessage message, EmailContent content)
    {
        var mime = new MimeMessage { Subject = content.Subject };
        mime.From.Add(new MailboxAddress(fromName, fromAddress));
        foreach (var recipient in message.Recipients)
        {
            mime.To.Add(MailboxAddress.Parse(recipient));
        }

        var body = new BodyBuilder { TextBody = content.TextBody, HtmlBody = content.HtmlBody };
        mime.Body = body.ToMessageBody();
        return mime;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Id} ({Kind}) sent to {RecipientCount} recipient(s)")]
    private partial void LogSent(long id, string kind, int recipientCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Id} ({Kind}) skipped: nothing left to send")]
    private partial void LogSkipped(long id, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox {Id} ({Kind}) failed attempt {Attempt}; retrying in {Delay}: {Reason}")]
    private partial void LogRetry(long id, string kind, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox {Id} ({Kind}) is dead: {Reason}")]
    private partial void LogDead(long id, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The delivery loop failed; it will try again at the next sweep")]
    private partial void LogLoopFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording {Count} delivery outcome(s) failed")]
    private partial void LogRecordFailed(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery is paused: the database cannot take writes ({Reason}); trying again with backoff")]
    private partial void LogStoragePaused(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database cannot take writes ({Reason}); delivery tries again in {Delay}")]
    private partial void LogStorageStillFailing(string reason, TimeSpan delay);

    [LoggerMessage(Message = "Delivery resumed: the database takes writes again, after {Duration}")]
    private partial void LogStorageResumed(LogLevel level, TimeSpan duration);
}
