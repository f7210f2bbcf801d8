using System.Net;
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
}

/// <summary>
/// Composes the activation mail. The token is made here, at send time, and only its hash is
/// stored: no raw token is ever written to the database. The link lives from this moment.
/// </summary>
public sealed class ActivationEmailComposer(
    UserStore users,
    AccountTokenStore tokens,
    ActivationLinks links,
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

        var (token, hash) = AccountTokens.Create();
        var now = time.GetUtcNow();
        var lifetime = options.Value.TokenLifetime;
        await tokens.AddAsync(user.Id, TokenPurpose.Activation, hash, now, now + lifetime, cancellationToken);

        var link = links.ForToken(token);
        return AccountEmailTemplates.Activation(message.Language, user.Username, link, lifetime);
    }
}

/// <summary>Tells the owner of an active account that someone tried to register with their address.</summary>
public sealed class AccountExistsEmailComposer(UserStore users, IOptions<PublicUrlOptions> urls) : IEmailComposer
{
    public async Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.UserId is not { } userId || await users.FindAsync(userId, cancellationToken) is not { } user)
        {
            return null;
        }

        return AccountEmailTemplates.AccountExists(message.Language, user.Username, urls.Value.BaseUri);
    }
}

/// <summary>The text of account mails, in English and Simplified Chinese. Every user-supplied value is HTML-encoded.</summary>
public static class AccountEmailTemplates
{
    public static EmailContent Activation(string language, string username, Uri link, TimeSpan lifetime)
    {
        var hours = (int)Math.Round(lifetime.TotalHours);
        var html = WebUtility.HtmlEncode(username);
        var url = WebUtility.HtmlEncode(link.AbsoluteUri);
        return language == Languages.SimplifiedChinese
            ? new EmailContent(
                "请激活您的账户",
                $"{username}，您好：\n\n请打开以下链接激活您的账户（{hours} 小时内有效，仅可使用一次）：\n\n{link.AbsoluteUri}\n\n如果这不是您本人的操作，请忽略此邮件。\n",
                $"<p>{html}，您好：</p><p>请点击下面的链接激活您的账户（{hours} 小时内有效，仅可使用一次）：</p>"
                + $"<p><a href=\"{url}\">激活账户</a></p><p>如果这不是您本人的操作，请忽略此邮件。</p>",
                link)
            : new EmailContent(
                "Activate your account",
                $"Hello {username},\n\nOpen this link to activate your account (it works once, for {hours} hours):\n\n{link.AbsoluteUri}\n\nIf you did not register, ignore this mail.\n",
                $"<p>Hello {html},</p><p>Open this link to activate your account (it works once, for {hours} hours):</p>"
                + $"<p><a href=\"{url}\">Activate my account</a></p><p>If you did not register, ignore this mail.</p>",
                link);
    }

    public static EmailContent AccountExists(string language, string username, Uri site)
    {
        var html = WebUtility.HtmlEncode(username);
        var url = WebUtility.HtmlEncode(site.AbsoluteUri);
        return language == Languages.SimplifiedChinese
            ? new EmailContent(
                "有人尝试用您的邮箱注册",
                $"{username}，您好：\n\n有人刚刚尝试用这个邮箱地址注册新账户，但它已经属于您的账户，因此没有做任何更改。\n如果是您本人，请直接登录；忘记密码可以重置。\n\n{site.AbsoluteUri}\n",
                $"<p>{html}，您好：</p><p>有人刚刚尝试用这个邮箱地址注册新账户，但它已经属于您的账户，因此没有做任何更改。</p>"
                + $"<p>如果是您本人，请直接<a href=\"{url}\">登录</a>；忘记密码可以重置。</p>")
            : new EmailContent(
                "Someone tried to register with your email",
                $"Hello {username},\n\nSomeone just tried to create an account with this email address. It already belongs to your account, so nothing was changed.\nIf it was you, sign in instead; if you forgot your password, reset it.\n\n{site.AbsoluteUri}\n",
                $"<p>Hello {html},</p><p>Someone just tried to create an account with this email address. It already belongs to your account, so nothing was changed.</p>"
                + $"<p>If it was you, <a href=\"{url}\">sign in</a> instead; if you forgot your password, reset it.</p>");
    }
}
