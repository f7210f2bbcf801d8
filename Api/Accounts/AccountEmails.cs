using System.Data;
using System.Globalization;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>The kinds of mail accounts put in the outbox.</summary>
public static class AccountEmailKinds
{
    /// <summary>An activation link for a pending account.</summary>
    public const string Activation = "activation";

    /// <summary>Someone tried to register with the address of an active account.</summary>
    public const string AccountExists = "account_exists";

    /// <summary>A password reset link.</summary>
    public const string PasswordReset = "password_reset";

    /// <summary>The mails <c>Activation:ResendCooldown</c> spaces out: those a registration or a resend sends.</summary>
    public static readonly string[] ActivationCooldownKinds = [Activation, AccountExists];
}

/// <summary>Queues account mails, at most one of a family per account per cooldown.</summary>
public static class AccountMail
{
    /// <summary>
    /// Inside the caller's write transaction: queues a <paramref name="kind"/> mail to
    /// <paramref name="user"/> unless one of <paramref name="cooldownKinds"/> was queued less than
    /// <paramref name="cooldown"/> ago. The outbox is the record, so a restart keeps the cooldown.
    /// </summary>
    /// <returns>The outbox row's id, to announce after the commit; null when the cooldown held it back.</returns>
    public static async Task<long?> QueueAsync(
        IDbConnection connection,
        IDbTransaction transaction,
        User user,
        string kind,
        IReadOnlyCollection<string> cooldownKinds,
        TimeSpan cooldown,
        DateTimeOffset now)
    {
        // Requests at the same moment, on any instance, take turns on the account's row: the second sees the first one's mail.
        await UserStore.LockAsync(connection, transaction, user.Id);
        var last = await OutboxStore.LastCreatedForUserAsync(connection, transaction, user.Id, cooldownKinds);
        if (last is { } queuedAt && now - queuedAt < cooldown)
        {
            return null;
        }

        return await OutboxStore.AddAsync(connection, transaction, new NewOutboxMessage(kind, [user.Email], user.Id, user.Language), now);
    }
}

/// <summary>The account mails' templates (<c>Accounts/Templates</c>), in English and Simplified Chinese.</summary>
public sealed class AccountEmailTemplates(IOptions<EmailOptions> options)
{
    private readonly EmailTemplates _templates = new(
        typeof(AccountEmailTemplates).Assembly, "Accounts/Templates/", options.Value.ProductName, options.Value.SupportAddress);

    public EmailContent Activation(string language, string username, Uri link, TimeSpan lifetime) =>
        _templates.Render(AccountEmailKinds.Activation, language, new Dictionary<string, string>
        {
            ["username"] = username,
            ["link"] = link.AbsoluteUri,
            ["hours"] = Math.Round(lifetime.TotalHours).ToString(CultureInfo.InvariantCulture),
        }, link);

    public EmailContent AccountExists(string language, string username) =>
        _templates.Render(AccountEmailKinds.AccountExists, language, new Dictionary<string, string> { ["username"] = username });

    public EmailContent PasswordReset(string language, string username, Uri link, TimeSpan lifetime) =>
        _templates.Render(AccountEmailKinds.PasswordReset, language, new Dictionary<string, string>
        {
            ["username"] = username,
            ["link"] = link.AbsoluteUri,
            ["minutes"] = Math.Round(lifetime.TotalMinutes).ToString(CultureInfo.InvariantCulture),
        }, link);
}

/// <summary>
/// Composes the activation mail. The token is made here, at send time, and only its hash is
/// stored: no raw token is ever written to the database. The link lives from this moment, and
/// it supersedes every earlier activation link of the account: only the newest one works.
/// </summary>
public sealed class ActivationEmailComposer(
    UserStore users,
    AccountTokenStore tokens,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<ActivationOptions> options,
    TimeProvider time) : IEmailComposer
{
    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId
            || await users.FindAsync(userId, cancellationToken) is not { Status: AccountStatus.PendingActivation } user)
        {
            // Activated (or gone) since the mail was queued: a link would say nothing new.
            return null;
        }

        var lifetime = options.Value.TokenLifetime;
        var token = await tokens.IssueAsync(user.Id, TokenPurpose.Activation, lifetime, time.GetUtcNow(), cancellationToken);
        return templates.Activation(message.Language, user.Username, links.Activation(token), lifetime);
    }
}

/// <summary>Tells the owner of an active account that someone tried to register with their address.</summary>
public sealed class AccountExistsEmailComposer(UserStore users, AccountEmailTemplates templates) : IEmailComposer
{
    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        message.UserId is { } userId && await users.FindAsync(userId, cancellationToken) is { } user
            ? templates.AccountExists(message.Language, user.Username)
            : null;
}

/// <summary>Composes the password reset mail; its token is made now and supersedes earlier reset links.</summary>
public sealed class PasswordResetEmailComposer(
    UserStore users,
    AccountTokenStore tokens,
    AccountLinks links,
    AccountEmailTemplates templates,
    IOptions<PasswordResetOptions> options,
    TimeProvider time) : IEmailComposer
{
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
