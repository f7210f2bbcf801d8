using Accounts.Api.Storage;
using Accounts.Api.Email;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Composes the password reset mail; its token and code are made now and supersede earlier reset links.</summary>
public sealed class PasswordResetEmailComposer(
    Database database,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<PasswordResetOptions> options,
    TimeProvider time) : IEmailComposer
{
    /// <summary>The outbox kind: a password reset link.</summary>
    public const string Kind = "password_reset";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId || await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is not { } user)
        {
            return null;
        }

        var lifetime = options.Value.TokenLifetime;
        var issued = await database.WriteAsync(session => session.Tokens.IssueAsync(user, TokenPurpose.PasswordReset, lifetime, time.GetUtcNow()), cancellationToken);
        return templates.PasswordReset(message.Language, user.Username, links.PasswordReset(issued.Token), issued.Code, lifetime);
    }
}
