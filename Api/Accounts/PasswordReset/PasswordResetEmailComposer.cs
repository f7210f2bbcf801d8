using Accounts.Api.Email;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Composes the password reset mail; its token is made now and supersedes earlier reset links.</summary>
public sealed class PasswordResetEmailComposer(
    UserStore users,
    AccountTokenStore tokens,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<PasswordResetOptions> options,
    TimeProvider time) : IEmailComposer
{
    /// <summary>The outbox kind: a password reset link.</summary>
    public const string Kind = "password_reset";

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId || await users.FindAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }

        var lifetime = options.Value.TokenLifetime;
        var token = await tokens.IssueAsync(user.Id, TokenPurpose.PasswordReset, lifetime, time.GetUtcNow(), cancellationToken);
        return templates.PasswordReset(message.Language, user.Username, links.PasswordReset(token), lifetime);
    }
}
