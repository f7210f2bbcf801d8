using Accounts.Api.Email;

namespace Accounts.Api.Accounts;

/// <summary>Tells the owner of an active account that someone tried to register with their address.</summary>
public sealed class AccountExistsEmailComposer(UserStore users, AccountEmailTemplates templates) : IEmailComposer
{
    /// <summary>The outbox kind: someone tried to register with the address of an active account.</summary>
    public const string Kind = "account_exists";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await users.FindAsync(userId, cancellationToken) is { } user
            ? templates.AccountExists(message.Language, user.Username)
            : null;
}
