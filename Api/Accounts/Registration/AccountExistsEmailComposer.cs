using Accounts.Api.Email;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>Tells the owner of an active account that someone tried to register with their address.</summary>
public sealed class AccountExistsEmailComposer(Database database, AccountEmailTemplates templates) : IEmailComposer
{
    /// <summary>The outbox kind: someone tried to register with the address of an active account.</summary>
    public const string Kind = "account_exists";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is { } user
            ? templates.AccountExists(message.Language, user.Username)
            : null;
}
