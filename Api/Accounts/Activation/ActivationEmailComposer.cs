using Accounts.Api.Storage;
using Accounts.Api.Email;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>
/// Composes the activation mail. The token and its 6-digit code are made here, at send time, and only its hash is
/// stored: no raw token is ever written to the database. The link lives from this moment, and
/// it supersedes every earlier activation link of the account: only the newest one works.
/// </summary>
public sealed class ActivationEmailComposer(
    Database database,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<ActivationOptions> options,
    TimeProvider time) : IEmailComposer
{
    /// <summary>The outbox kind: an activation link for a pending account.</summary>
    public const string Kind = "activation";

    /// <summary>The mails <c>Activation:ResendCooldown</c> spaces out: those a registration or a resend sends.</summary>
    public static readonly string[] CooldownKinds = [Kind, AccountExistsEmailComposer.Kind];

    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId
            || await database.ReadAsync(session => session.Users.FindAsync(userId), cancellationToken) is not { Status: AccountStatus.PendingActivation } user)
        {
            // Activated (or gone) since the mail was queued: a link would say nothing new.
            return null;
        }

        var lifetime = options.Value.TokenLifetime;
        var issued = await database.WriteAsync(session => session.Tokens.IssueAsync(user, TokenPurpose.Activation, lifetime, time.GetUtcNow()), cancellationToken);
        return templates.Activation(message.Language, user.Username, links.Activation(issued.Token), issued.Code, lifetime);
    }
}
