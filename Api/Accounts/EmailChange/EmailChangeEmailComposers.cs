using Accounts.Api.Email;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>
/// The mail to the new address: a link and a code, made now (only their hashes stored), ending the
/// account's earlier email-change links. The address is the message's recipient; it is stored with
/// the link's hash, and nothing changes until the link or the code is used.
/// </summary>
public sealed class EmailChangeEmailComposer(
    Database database,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<EmailChangeOptions> options,
    TimeProvider time) : IEmailComposer
{
    public const string Kind = "email_change";

    /// <summary>The mails <c>EmailChange:Cooldown</c> spaces out for one account.</summary>
    public static readonly string[] CooldownKinds = [Kind, EmailChangeRequestedEmailComposer.Kind];

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId || message.Recipients is not [var newEmail]
            || await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is not { } user)
        {
            return null;
        }

        var lifetime = options.Value.TokenLifetime;
        var issued = await database.WriteAsync(
            session => session.Tokens.IssueAsync(user, TokenPurpose.EmailChange, lifetime, time.GetUtcNow(), newEmail), cancellationToken);
        return templates.EmailChange(message.Language, user.Username, links.EmailChange(issued.Token), issued.Code, lifetime);
    }
}

/// <summary>The notice to the account's current address that a change of address was asked for.</summary>
public sealed class EmailChangeRequestedEmailComposer(Database database, AccountEmailTemplates templates) : IEmailComposer
{
    public const string Kind = "email_change_requested";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is { } user
            ? templates.EmailChangeRequested(message.Language, user.Username)
            : null;
}

/// <summary>The notice to the owner of an address another account asked to move to: it is theirs, so nothing changed.</summary>
public sealed class EmailInUseEmailComposer(Database database, AccountEmailTemplates templates) : IEmailComposer
{
    public const string Kind = "email_in_use";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is { } user
            ? templates.EmailInUse(message.Language, user.Username)
            : null;
}
