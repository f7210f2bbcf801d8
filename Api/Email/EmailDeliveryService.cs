using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Accounts.Api.Email;

/// <summary>
/// Drains the outbox. It claims due rows with a lease, composes each (a feature's
/// <see cref="IEmailComposer"/> makes any token at this moment), sends it through the configured
/// transport and records the outcome. The channel wakes it the moment a row is committed; a sweep
/// on a timer, and one at start, find whatever the channel did not announce.
/// </summary>
public sealed partial class EmailDeliveryService(
    IServiceScopeFactory scopes,
    OutboxStore store,
    OutboxSignal signal,
    IEmailTransport transport,
    IOptions<EmailOptions> emailOptions,
    IOptions<PublicUrlOptions> urlOptions,
    TimeProvider time,
    ILogger<EmailDeliveryService> logger) : BackgroundService
{
    private readonly EmailOptions _options = emailOptions.Value;
    private readonly MailboxAddress _from = new(
        emailOptions.Value.FromName,
        emailOptions.Value.From ?? $"no-reply@{urlOptions.Value.BaseUri.Host}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delivery = _options.Delivery;
        try
        {
            // Rows claimed before a crash or restart are this instance's: take them back now.
            await store.ReleaseAllLeasesAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    while (signal.Reader.TryRead(out _))
                    {
                        // The table is the truth: one claim below picks up everything announced.
                    }

                    var batch = await store.ClaimDueAsync(delivery.BatchSize, delivery.Lease, stoppingToken);
                    if (batch.Count > 0)
                    {
                        await Parallel.ForEachAsync(
                            batch,
                            new ParallelOptions { MaxDegreeOfParallelism = delivery.Connections, CancellationToken = stoppingToken },
                            async (message, token) => await DeliverAsync(message, token));
                        continue;
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A database hiccup must not end delivery: log it and wait for the next sweep.
                    LogLoopFailed(ex);
                }

                await WaitForWorkAsync(delivery.SweepInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            // Whatever was claimed but not finished goes back to the table for the next start.
            await store.ReleaseAllLeasesAsync(CancellationToken.None);
        }
    }

    private async Task WaitForWorkAsync(TimeSpan sweepInterval, CancellationToken stoppingToken)
    {
        using var sweep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        sweep.CancelAfter(sweepInterval);
        try
        {
            await signal.Reader.WaitToReadAsync(sweep.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Time for a sweep.
        }
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var composer = scope.ServiceProvider.GetKeyedService<IEmailComposer>(message.Kind);
            if (composer is null)
            {
                await store.MarkDeadAsync(message.Id, $"No composer is registered for kind '{message.Kind}'.", CancellationToken.None);
                LogDead(message.Id, message.Kind, "unknown kind");
                return;
            }

            var content = await composer.ComposeAsync(message, cancellationToken);
            if (content is null)
            {
                await store.MarkSkippedAsync(message.Id, CancellationToken.None);
                LogSkipped(message.Id, message.Kind);
                return;
            }

            await transport.SendAsync(Build(message, content), content.ActionUrl, cancellationToken);
            await store.MarkSentAsync(message.Id, CancellationToken.None);
            LogSent(message.Id, message.Kind, message.Recipients.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down; the lease is released and the row goes out after the restart.
        }
        catch (Exception ex)
        {
            await RecordFailureAsync(message, DeliveryFailure.From(ex));
        }
    }

    private async Task RecordFailureAsync(OutboxMessage message, DeliveryFailure failure)
    {
        var attempt = message.Attempts + 1;
        if (failure.Permanent || attempt >= _options.Delivery.MaxAttempts)
        {
            await store.MarkDeadAsync(message.Id, failure.Reason, CancellationToken.None);
            LogDead(message.Id, message.Kind, failure.Reason);
            return;
        }

        var delay = Backoff(attempt, _options.Delivery);
        await store.ScheduleRetryAsync(message.Id, time.GetUtcNow() + delay, failure.Reason, CancellationToken.None);
        LogRetry(message.Id, message.Kind, attempt, delay, failure.Reason);
    }

    /// <summary>Exponential backoff from <c>InitialBackoff</c>, doubling per attempt up to <c>MaxBackoff</c>, with ±25% jitter.</summary>
    internal static TimeSpan Backoff(int attempt, DeliveryOptions options)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var nominal = Math.Min(options.InitialBackoff.TotalMilliseconds * Math.Pow(2, exponent), options.MaxBackoff.TotalMilliseconds);
        var jittered = nominal * (0.75 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, options.MaxBackoff.TotalMilliseconds));
    }

    private MimeMessage Build(OutboxMessage message, EmailContent content)
    {
        var mime = new MimeMessage { Subject = content.Subject };
        mime.From.Add(_from);
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
}
