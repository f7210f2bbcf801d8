namespace Accounts.Api.Email;

/// <summary>
/// What to send, as stored in the outbox: the kind of mail, who gets it, whom it is about and
/// in which language. Never a secret: a link's token is made when the mail is composed.
/// <paramref name="Traceparent"/> names the span of the request that queued it, if it was traced.
/// A webhook (<paramref name="Transport"/> <see cref="OutboxTransports.Webhook"/>) carries its
/// endpoint's URL as its one recipient, the event's body as written with the change, and the
/// <c>webhook-id</c> every attempt sends.
/// </summary>
public sealed record OutboxMessage(
    long Id,
    string Kind,
    IReadOnlyList<string> Recipients,
    Guid? UserId,
    string Language,
    int Attempts,
    DateTimeOffset CreatedAt,
    string? Traceparent = null,
    string Transport = OutboxTransports.Email,
    string? Payload = null,
    string? WebhookId = null);

/// <summary>A message to put in the outbox.</summary>
public sealed record NewOutboxMessage(string Kind, IReadOnlyList<string> Recipients, Guid? UserId, string Language)
{
    public string Transport { get; init; } = OutboxTransports.Email;

    public string? Payload { get; init; }

    public string? WebhookId { get; init; }
}

/// <summary>How an outbox row is delivered.</summary>
public static class OutboxTransports
{
    /// <summary>A mail, composed at send time by the kind's <see cref="IEmailComposer"/>.</summary>
    public const string Email = "email";

    /// <summary>An event, POSTed as written to one endpoint (<c>Webhooks:Endpoints</c>).</summary>
    public const string Webhook = "webhook";
}

/// <summary>A composed mail: its subject and bodies, and the link it exists to deliver, if any.</summary>
/// <param name="ActionUrl">Logged by the development transports so a person can follow it without a mailbox.</param>
public sealed record EmailContent(string Subject, string TextBody, string? HtmlBody, Uri? ActionUrl = null);

/// <summary>
/// Turns an outbox row of one kind into a mail. A feature registers one per kind it sends,
/// keyed by the kind: <c>services.AddKeyedScoped&lt;IEmailComposer, X&gt;("kind")</c>.
/// </summary>
public interface IEmailComposer
{
    /// <summary>The mail to send, or <c>null</c> when there is no longer anything to say (the row is then skipped).</summary>
    Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken);
}
