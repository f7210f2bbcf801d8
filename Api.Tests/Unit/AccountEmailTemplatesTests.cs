using Accounts.Api.Accounts;
using Accounts.Api.Email;

namespace Accounts.Api.Tests.Unit;

public sealed class AccountEmailTemplatesTests
{
    private static readonly Uri Link = new("https://accounts.example.test/activate?token=abc&x=1");

    [Theory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public void Every_mail_has_a_text_and_an_html_part_with_the_link(string language)
    {
        var templates = Templates();

        foreach (var mail in new[]
        {
            templates.Activation(language, "alice", Link, "042917", TimeSpan.FromDays(1)),
            templates.PasswordReset(language, "alice", Link, "042917", TimeSpan.FromHours(1)),
            templates.EmailChange(language, "alice", Link, "042917", TimeSpan.FromDays(1)),
        })
        {
            Assert.Contains(Link.AbsoluteUri, mail.TextBody);
            Assert.Contains("https://accounts.example.test/activate?token=abc&amp;x=1", mail.HtmlBody);
            Assert.Contains("<!DOCTYPE html>", mail.HtmlBody);
            Assert.Equal(Link, mail.ActionUrl);
            Assert.Contains("042917", mail.TextBody);
            Assert.Contains(">042917</p>", mail.HtmlBody);
            // The link comes first in the text: the first http… in it is the link.
            Assert.True(mail.TextBody.IndexOf("http", StringComparison.Ordinal) < mail.TextBody.IndexOf("042917", StringComparison.Ordinal));
            Assert.DoesNotContain("{{", mail.TextBody + mail.HtmlBody + mail.Subject);
        }

        foreach (var notice in new[]
        {
            templates.AccountExists(language, "alice"), templates.PasswordChanged(language, "alice"),
            templates.EmailChangeRequested(language, "alice"), templates.EmailInUse(language, "alice"),
        })
        {
            Assert.DoesNotContain("{{", notice.TextBody + notice.HtmlBody + notice.Subject);
            Assert.Contains("alice", notice.TextBody + notice.HtmlBody);
            Assert.Contains("<!DOCTYPE html>", notice.HtmlBody);
        }
    }

    [Fact]
    public void Chinese_mails_are_in_Chinese_and_unknown_languages_fall_back_to_English()
    {
        var templates = Templates();

        Assert.Equal("激活您的Acme账户", templates.Activation("zh-CN", "alice", Link, "042917", TimeSpan.FromDays(1)).Subject);
        Assert.Equal("Activate your Acme account", templates.Activation("fr", "alice", Link, "042917", TimeSpan.FromDays(1)).Subject);
        Assert.Contains("24 hours", templates.Activation("en", "alice", Link, "042917", TimeSpan.FromDays(1)).TextBody);
    }

    [Fact]
    public void User_supplied_values_are_html_encoded_in_the_html_part()
    {
        var mail = Templates().Activation("en", "<b>x</b>", Link, "042917", TimeSpan.FromDays(1));

        Assert.Contains("&lt;b&gt;x&lt;/b&gt;", mail.HtmlBody);
        Assert.DoesNotContain("<b>x</b>", mail.HtmlBody);
        Assert.Contains("<b>x</b>", mail.TextBody);
    }

    [Fact]
    public void Product_name_and_support_address_are_configurable()
    {
        var mail = Templates().AccountExists("en", "alice");

        Assert.Contains("Acme", mail.Subject + mail.TextBody);
        Assert.Contains("help@acme.example", mail.TextBody);
        Assert.Contains("help@acme.example", mail.HtmlBody);
    }

    private static AccountEmailTemplates Templates() =>
        new(new EmailOptions { ProductName = "Acme", SupportAddress = "help@acme.example" }, directory: null);
}
