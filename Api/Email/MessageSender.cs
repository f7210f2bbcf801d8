using System.Diagnostics;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Accounts.Api.Email;

/// <summary>
/// Composes one claimed message and sends it: the feature's <see cref="IEmailComposer"/> for its
/// kind makes the content (and any token) now, the MIME message is built with the configured
/// sender, the transport sends it, and the result becomes the <see cref="DeliveryOutcome"/> to
/// record: sent, skipped, a retry after backoff, dead, or given back untried.
/// </summary>
public sealed partial class MessageSender(
    IServiceScopeFactory scopes,
    Outbox outbox,
    IEmailTransport transport,
    WebhookTransport webhooks,
    DeliveryMetrics metrics,
    DeliveryHealth health,
    IOptions<EmailOptions> emailOptions,
    IOptions<PublicUrlOptions> urlOptions,
    TimeProvider time,
    ILogger<MessageSender> logger)
{
    private readonly EmailOptions _options = emailOptions.Value;
    private readonly string _fromAddress = emailOptions.Value.From ?? $"no-reply@{urlOptions.Value.BaseUri.Host}";

    /// <summary>Composes and sends one message; returns what to record, or null when the send was cancelled.</summary>
    public async Task<DeliveryOutcome?> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.Transport == OutboxTransports.Webhook)
        {
            return await DeliverWebhookAsync(message, cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        using var span = StartSendSpan("email send", "email.kind", message);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var composer = scope.ServiceProvider.GetKeyedService<IEmailComposer>(message.Kind);
            if (composer is null)
            {
                LogDead(message.Id, message.Kind, "unknown kind");
                metrics.Dead(message);
                return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Dead, $"No composer is registered for kind '{message.Kind}'.");
            }

            EmailContent? content;
            using (Telemetry.Source.StartActivity("email compose"))
            {
                content = await composer.ComposeAsync(message, cancellationToken);
            }

            if (content is null)
            {
                LogSkipped(message.Id, message.Kind);
                span?.SetTag("email.outcome", "skipped");
                return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Skipped);
            }

            await transport.SendAsync(Build(_options.FromName, _fromAddress, message, content), content.ActionUrl, cancellationToken);
            health.Succeeded();
            metrics.Sent(message, Stopwatch.GetElapsedTime(started));
            LogSent(message.Id, message.Kind, message.Recipients.Count);
            span?.SetTag("email.outcome", "sent");
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Sent);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down; the lease is released and the row goes out after the restart.
            span?.SetTag("email.outcome", "cancelled");
            return null;
        }
        catch (StorageUnavailableException ex)
        {
            // Composing needed a write the database refused (a new token): nothing was sent, so no
            // attempt is counted; the row goes back as it was, for when the database takes writes.
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            span?.SetTag("email.outcome", "released");
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Released);
        }
        catch (Exception ex)
        {
            var failure = DeliveryFailure.From(ex);
            health.Failed(failure);
            metrics.Failed(message, failure.Permanent, Stopwatch.GetElapsedTime(started));
            span?.SetStatus(ActivityStatusCode.Error, failure.Reason);
            span?.SetTag("email.outcome", failure.Permanent ? "failed_permanently" : "failed");
            return Failed(message, failure);
        }
    }

    /// <summary>POSTs one event to its endpoint (<see cref="WebhookTransport"/>), with the same records, retries and dead letters as mail.</summary>
    private async Task<DeliveryOutcome?> DeliverWebhookAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = StartSendSpan("webhook send", "webhook.type", message);
        WebhookResult result;
        try
        {
            result = await webhooks.SendAsync(message, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            span?.SetTag("webhook.outcome", "cancelled");
            return null;
        }

        if (result.EndpointGone)
        {
            LogWebhookEndpointGone(message.Id, message.Kind);
            span?.SetTag("webhook.outcome", "skipped");
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Skipped);
        }

        if (result.Failure is { } failure)
        {
            metrics.Failed(message, failure.Permanent, Stopwatch.GetElapsedTime(started));
            span?.SetStatus(ActivityStatusCode.Error, failure.Reason);
            span?.SetTag("webhook.outcome", failure.Permanent ? "failed_permanently" : "failed");
            return Failed(message, failure);
        }

        metrics.Sent(message, Stopwatch.GetElapsedTime(started));
        LogWebhookSent(message.Id, message.Kind, message.WebhookId);
        span?.SetTag("webhook.outcome", "sent");
        return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Sent);
    }

    /// <summary>
    /// The span of one attempt: a trace of its own (the loop's span is not its parent), linked to the
    /// request that queued the row, tagged with the row, its attempt and the instance (and start) that sent it.
    /// </summary>
    private Activity? StartSendSpan(string name, string kindTag, OutboxMessage message)
    {
        Activity.Current = null;
        var span = Telemetry.Source.StartActivity(ActivityKind.Client, links: Telemetry.LinkTo(message.Traceparent), name: name);
        span?.SetTag(kindTag, message.Kind);
        span?.SetTag("outbox.id", message.Id);
        span?.SetTag("outbox.attempt", message.Attempts + 1);
        span?.SetTag("outbox.owner", outbox.LeaseOwner);
        return span;
    }

    private DeliveryOutcome Failed(OutboxMessage message, DeliveryFailure failure)
    {
        var attempt = message.Attempts + 1;
        if (failure.Permanent || attempt >= _options.Delivery.MaxAttempts)
        {
            LogDead(message.Id, message.Kind, failure.Reason);
            metrics.Dead(message);
            return new DeliveryOutcome(message.Id, DeliveryOutcomeKind.Dead, failure.Reason);
        }

        var delay = Backoff(attempt, _options.Delivery);
        if (failure.RetryAfter is { } asked && asked > delay)
        {
            delay = asked;
        }

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

    /// <summary>
    /// The MIME message. Every address is a new object: an address list subscribes to its members'
    /// change events, so one shared sender address would keep every message ever built alive. Its
    /// <c>Message-Id</c> is in the sender's domain (MimeKit's default names the machine, which
    /// receivers cannot tie to the sender), and <c>Auto-Submitted: auto-generated</c> (RFC 3834)
    /// tells auto-responders not to answer it. Nothing in it tracks the reader.
    /// </summary>
    internal static MimeMessage Build(string fromName, string fromAddress, OutboxMessage message, EmailContent content)
    {
        var from = new MailboxAddress(fromName, fromAddress);
        var mime = new MimeMessage { Subject = content.Subject, MessageId = MimeUtils.GenerateMessageId(from.Domain) };
        mime.Headers.Add("Auto-Submitted", "auto-generated");
        mime.From.Add(from);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Id} ({Kind}) delivered to its webhook endpoint as {WebhookId}")]
    private partial void LogWebhookSent(long id, string kind, string? webhookId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox {Id} ({Kind}) skipped: its webhook endpoint is no longer in Webhooks:Endpoints")]
    private partial void LogWebhookEndpointGone(long id, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Id} ({Kind}) skipped: nothing left to send")]
    private partial void LogSkipped(long id, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox {Id} ({Kind}) failed attempt {Attempt}; retrying in {Delay}: {Reason}")]
    private partial void LogRetry(long id, string kind, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox {Id} ({Kind}) is dead: {Reason}")]
    private partial void LogDead(long id, string kind, string reason);
}
