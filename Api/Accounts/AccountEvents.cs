using Accounts.Api.Email;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>
/// The account events announced to <c>Webhooks:Endpoints</c>, written in the same transaction as
/// the change: <c>{type, timestamp, data: {userId, username, email}}</c>, never a password, hash
/// or token. <see cref="Announce"/> wakes the delivery worker after the commit.
/// </summary>
public sealed class AccountEvents(WebhookEvents webhooks, OutboxSignal signal)
{
    public const string Registered = "user.registered";
    public const string Activated = "user.activated";
    public const string EmailChanged = "user.email_changed";
    public const string PasswordChanged = "user.password_changed";
    public const string Deleted = "user.deleted";

    public static readonly WebhookEventCatalog Catalog = new([Registered, Activated, EmailChanged, PasswordChanged, Deleted]);

    /// <summary>Queues <paramref name="type"/> about <paramref name="user"/> as it is now; returns how many endpoints get it.</summary>
    public Task<int> QueueAsync(DbSession session, string type, User user, DateTimeOffset now) =>
        QueueAsync(session, type, user.Id, user.Username, user.Email, now);

    /// <inheritdoc cref="QueueAsync(DbSession, string, User, DateTimeOffset)"/>
    public Task<int> QueueAsync(DbSession session, string type, Guid userId, string username, string email, DateTimeOffset now) =>
        webhooks.QueueAsync(session, type, userId, new EventData(userId, username, email), now);

    /// <summary>Queues <paramref name="type"/> about the account <paramref name="userId"/>, read in this write only when an endpoint wants it.</summary>
    public async Task<int> QueueAsync(DbSession session, string type, Guid userId, DateTimeOffset now) =>
        webhooks.Wanted(type) && await session.Users.FindAsync(userId) is { } user ? await QueueAsync(session, type, user, now) : 0;

    /// <summary>After the commit: wakes the delivery worker when events were queued.</summary>
    public void Announce(int queued)
    {
        if (queued > 0)
        {
            signal.Notify();
        }
    }

    private sealed record EventData(Guid UserId, string Username, string Email);
}
