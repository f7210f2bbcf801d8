using System.Globalization;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

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
        DbSession session,
        User user,
        string kind,
        IReadOnlyCollection<string> cooldownKinds,
        TimeSpan cooldown,
        DateTimeOffset now)
    {
        // Requests at the same moment, on any instance, take turns on the account's row: the second sees the first one's mail.
        await session.Users.LockAsync(user.Id);
        var last = await session.Outbox.LastCreatedForUserAsync(user.Id, cooldownKinds);
        if (last is { } queuedAt && now - queuedAt < cooldown)
        {
            return null;
        }

        return await session.Outbox.AddAsync(new NewOutboxMessage(kind, [user.Email], user.Id, user.Language), now);
    }

    /// <summary>
    /// For the endpoints that mail a link to an address and never tell whether it has an account:
    /// in one write, finds the account of <paramref name="email"/> and, when it is one
    /// <paramref name="mailable"/> accepts, queues the mail as <see cref="QueueAsync"/> does; then
    /// wakes the delivery worker if a mail was committed.
    /// </summary>
    public static async Task QueueForAddressAsync(
        AccountServices services,
        string email,
        Func<User, bool> mailable,
        string kind,
        IReadOnlyCollection<string> cooldownKinds,
        TimeSpan cooldown,
        CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var outboxId = await services.Database.WriteAsync(
            async session =>
                await session.Users.FindByEmailAsync(email) is { } user && mailable(user)
                    ? await QueueAsync(session, user, kind, cooldownKinds, cooldown, now)
                    : null,
            cancellationToken);

        if (outboxId is not null)
        {
            services.Outbox.Notify();
        }
    }
}

/// <summary>
/// The account mails' templates (<c>Accounts/Templates</c>), in English and Simplified Chinese, or
/// an operator's files of the same names from <c>Email:TemplatesDirectory</c>.
/// </summary>
public sealed class AccountEmailTemplates
{
    private static readonly string[] Link = ["username", "link", "code", "hours"];
    private static readonly string[] Notice = ["username"];

    /// <summary>Each kind and the placeholders its templates may use (besides product, support and lang).</summary>
    public static readonly EmailTemplateCatalog Catalog = new(
        typeof(AccountEmailTemplates).Assembly,
        "Accounts/Templates/",
        [Languages.English, Languages.SimplifiedChinese],
        new Dictionary<string, IReadOnlyList<string>>
        {
            [ActivationEmailComposer.Kind] = Link,
            [AccountExistsEmailComposer.Kind] = Notice,
            [PasswordResetEmailComposer.Kind] = ["username", "link", "code", "minutes"],
            [PasswordChangedEmailComposer.Kind] = Notice,
            [EmailChangeEmailComposer.Kind] = Link,
            [EmailChangeRequestedEmailComposer.Kind] = Notice,
            [EmailInUseEmailComposer.Kind] = Notice,
        });

    private readonly EmailTemplates _templates;

    public AccountEmailTemplates(IOptions<EmailOptions> options, IHostEnvironment environment)
        : this(options.Value, options.Value.TemplatesDirectory is { } directory ? Path.GetFullPath(directory, environment.ContentRootPath) : null)
    {
    }

    internal AccountEmailTemplates(EmailOptions options, string? directory) =>
        _templates = new EmailTemplates(Catalog, options.ProductName, options.SupportAddress, directory);

    public EmailContent Activation(string language, string username, Uri link, string code, TimeSpan lifetime) =>
        _templates.Render(ActivationEmailComposer.Kind, language, new Dictionary<string, string>
        {
            ["username"] = username,
            ["link"] = link.AbsoluteUri,
            ["code"] = code,
            ["hours"] = Math.Round(lifetime.TotalHours).ToString(CultureInfo.InvariantCulture),
        }, link);

    public EmailContent AccountExists(string language, string username) =>
        _templates.Render(AccountExistsEmailComposer.Kind, language, new Dictionary<string, string> { ["username"] = username });

    public EmailContent EmailChange(string language, string username, Uri link, string code, TimeSpan lifetime) =>
        _templates.Render(EmailChangeEmailComposer.Kind, language, new Dictionary<string, string>
        {
            ["username"] = username,
            ["link"] = link.AbsoluteUri,
            ["code"] = code,
            ["hours"] = Math.Round(lifetime.TotalHours).ToString(CultureInfo.InvariantCulture),
        }, link);

    public EmailContent EmailChangeRequested(string language, string username) =>
        _templates.Render(EmailChangeRequestedEmailComposer.Kind, language, new Dictionary<string, string> { ["username"] = username });

    public EmailContent EmailInUse(string language, string username) =>
        _templates.Render(EmailInUseEmailComposer.Kind, language, new Dictionary<string, string> { ["username"] = username });

    public EmailContent PasswordChanged(string language, string username) =>
        _templates.Render(PasswordChangedEmailComposer.Kind, language, new Dictionary<string, string> { ["username"] = username });

    public EmailContent PasswordReset(string language, string username, Uri link, string code, TimeSpan lifetime) =>
        _templates.Render(PasswordResetEmailComposer.Kind, language, new Dictionary<string, string>
        {
            ["username"] = username,
            ["link"] = link.AbsoluteUri,
            ["code"] = code,
            ["minutes"] = Math.Round(lifetime.TotalMinutes).ToString(CultureInfo.InvariantCulture),
        }, link);
}
