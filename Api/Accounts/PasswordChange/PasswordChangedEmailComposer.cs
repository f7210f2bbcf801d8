using Accounts.Api.Email;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>Tells the account's owner that its password was changed, so a change they did not make is noticed.</summary>
public sealed class PasswordChangedEmailComposer(Database database, AccountEmailTemplates templates) : IEmailComposer
{
    /// <summary>The outbox kind: the signed-in account changed its password.</summary>
    public const string Kind = "password_changed";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is { } user
            ? templates.PasswordChanged(message.Language, user.Username)
            : null;
}
