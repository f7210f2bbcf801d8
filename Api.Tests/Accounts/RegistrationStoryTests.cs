using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

/// <summary>The whole story over HTTP and SMTP: register, get the mail, follow the link.</summary>
public sealed class RegistrationStoryTests
{
    [Fact]
    public async Task Register_mail_follow_link_activates_then_already_active()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);

        var response = await app.RegisterAsync("alice", "alice@example.com", birthday: "1990-05-17");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("alice", body.GetProperty("username").GetString());
        Assert.Equal("alice@example.com", body.GetProperty("email").GetString());
        Assert.Equal("pending_activation", body.GetProperty("status").GetString());

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("accounts@example.test", mail.MailFrom);
        Assert.StartsWith($"{TestApp.PublicBaseUrl}/activate?token=", mail.Link.AbsoluteUri);
        Assert.Equal(43, mail.Token.Length);
        Assert.Contains(mail.Link.AbsoluteUri, mail.HtmlBody.Replace("&amp;", "&"));

        var first = await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("activated", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var second = await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("already_active", (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }
}
