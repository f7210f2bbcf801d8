using Accounts.Api.Email;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>
/// What the account endpoints share, bound as one handler argument with <c>[AsParameters]</c>
/// (as dotnet/eShop's <c>CatalogServices</c>): the database, the delivery worker's wake-up, the
/// password hasher, the account events and the clock.
/// </summary>
public sealed class AccountServices(Database database, OutboxSignal outbox, PasswordHashing hashing, AccountEvents events, TimeProvider time)
{
    public Database Database { get; } = database;

    /// <summary>Announces committed mails to the delivery worker (after the commit, never before).</summary>
    public OutboxSignal Outbox { get; } = outbox;

    public PasswordHashing Hashing { get; } = hashing;

    /// <summary>Writes account events for the webhooks, in the caller's transaction.</summary>
    public AccountEvents Events { get; } = events;

    public TimeProvider Time { get; } = time;
}
