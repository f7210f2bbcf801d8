using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Accounts;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Accounts;

public sealed class ActivationTests
{
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    [Fact]
    public async Task An_unknown_token_is_a_404_problem()
    {
        await using var app = TestApp.Start(smtp: null);
        var (token, _) = AccountTokens.Create();

        var response = await app.Client.GetAsync($"/activate?token={token}");

        await response.ProblemAsync(404, "token_not_found");
    }

    [Theory]
    [InlineData("/activate")]
    [InlineData("/activate?token=")]
    [InlineData("/activate?token=short")]
    [InlineData("/activate?token=%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B%2B")]
    public async Task A_missing_or_malformed_token_is_a_400_naming_the_token(string path)
    {
        await using var app = TestApp.Start(smtp: null);

        var response = await app.Client.GetAsync(path);

        var problem = await response.ProblemAsync(400, "validation_failed");
        Assert.Equal(["token"], problem.ErrorFields());
    }

    [Fact]
    public async Task A_link_followed_after_its_lifetime_is_a_410_and_activates_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var response = await app.Client.GetAsync(TestApp.PathOf(mail.Link));

        await response.ProblemAsync(410, "token_expired");
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users;"));
    }

    [Fact]
    public async Task A_link_followed_just_before_its_lifetime_ends_activates()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));

        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }

    [Fact]
    public async Task POST_activate_with_the_token_answers_like_the_link()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        var first = await app.Client.PostAsJsonAsync("/activate", new { token = mail.Token });
        var second = await app.Client.PostAsJsonAsync("/activate", new { token = mail.Token });
        var unknown = await app.Client.PostAsJsonAsync("/activate", new { token = AccountTokens.Create().Token });
        var missing = await app.Client.PostAsJsonAsync("/activate", new { });

        Assert.Equal("activated", await first.StatusAsync());
        Assert.Equal("already_active", await second.StatusAsync());
        await unknown.ProblemAsync(404, "token_not_found");
        Assert.Equal(["token"], (await missing.ProblemAsync(400, "validation_failed")).ErrorFields());
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users;"));
    }

    [Fact]
    public async Task A_browser_or_a_mail_scanner_gets_a_page_that_changes_nothing_and_only_its_button_activates()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        using var scanner = new HttpClient { BaseAddress = app.BaseAddress }; // no Accept at all
        using var browser = new HttpClient { BaseAddress = app.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd(BrowserAccept);

        var scanned = await scanner.GetAsync(TestApp.PathOf(mail.Link));
        var opened = await browser.GetAsync(TestApp.PathOf(mail.Link));
        var headed = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Head, TestApp.PathOf(mail.Link)));

        foreach (var page in new[] { scanned, opened })
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("<h1>Activate your account</h1>", html, StringComparison.Ordinal);
            Assert.Contains("<form method=\"post\" action=\"/activate\">", html, StringComparison.Ordinal);
            Assert.Contains($"<input type=\"hidden\" name=\"token\" value=\"{mail.Token}\">", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
            Assert.Contains("form-action 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        }

        Assert.NotEqual(HttpStatusCode.InternalServerError, headed.StatusCode);
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users;"));
        Assert.Null(await app.ScalarAsync<DateTimeOffset?>("SELECT consumed_at FROM account_tokens;"));

        var pressed = await browser.PostAsync("/activate", new FormUrlEncodedContent([new("token", mail.Token)]));
        Assert.Equal(HttpStatusCode.OK, pressed.StatusCode);
        Assert.Contains("Account activated", await pressed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users;"));

        var pressedAgain = await browser.PostAsync("/activate", new FormUrlEncodedContent([new("token", mail.Token)]));
        var reopened = await browser.GetAsync(TestApp.PathOf(mail.Link));
        Assert.Contains("Already active", await pressedAgain.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Already active", await reopened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var forged = await browser.PostAsync("/activate", new FormUrlEncodedContent([new("token", AccountTokens.Create().Token)]));
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        Assert.Equal("text/html", forged.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_page_speaks_the_account_s_language_whatever_the_opener_asks_for()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("张伟伟", "zhang@example.com", language: "zh-CN");
        var mail = await smtp.WaitForMailAsync("zhang@example.com");
        using var scanner = new HttpClient { BaseAddress = app.BaseAddress };
        scanner.DefaultRequestHeaders.AcceptLanguage.ParseAdd("en-US");

        var html = await (await scanner.GetAsync(TestApp.PathOf(mail.Link))).Content.ReadAsStringAsync();

        Assert.Contains("<html lang=\"zh-CN\">", html, StringComparison.Ordinal);
        Assert.Contains("<h1>激活您的账户</h1>", html, StringComparison.Ordinal);
        Assert.Contains(">激活账户</button>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_ConfirmInBrowser_false_a_browser_s_GET_activates_at_once()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Activation:ConfirmInBrowser"] = "false" });
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        var request = new HttpRequestMessage(HttpMethod.Get, TestApp.PathOf(mail.Link));
        request.Headers.Accept.ParseAdd(BrowserAccept);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Account activated", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users;"));
    }

    [Fact]
    public async Task The_button_s_post_is_redirected_with_303_to_the_configured_SPA_page_and_never_elsewhere()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>
        {
            ["Activation:RedirectUrl"] = "https://app.example.test/activated",
        });
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        client.DefaultRequestHeaders.Accept.ParseAdd(BrowserAccept);
        var form = () => new FormUrlEncodedContent([new("token", mail.Token)]);

        var opened = await client.GetAsync(TestApp.PathOf(mail.Link) + "&redirect=https://evil.example&returnUrl=https://evil.example");
        var activated = await client.PostAsync("/activate?redirect=https://evil.example&returnUrl=https://evil.example", form());
        var again = await client.PostAsync("/activate", form());
        var reopened = await client.GetAsync(TestApp.PathOf(mail.Link));
        var unknown = await client.GetAsync($"/activate?token={AccountTokens.Create().Token}");

        Assert.Equal(HttpStatusCode.OK, opened.StatusCode); // the page with the button, not a redirect
        Assert.Equal(HttpStatusCode.SeeOther, activated.StatusCode);
        Assert.Equal("https://app.example.test/activated?status=activated", activated.Headers.Location?.AbsoluteUri);
        Assert.Equal("https://app.example.test/activated?status=already_active", again.Headers.Location?.AbsoluteUri);
        Assert.Equal("https://app.example.test/activated?status=already_active", reopened.Headers.Location?.AbsoluteUri);
        Assert.Equal("https://app.example.test/activated?status=invalid", unknown.Headers.Location?.AbsoluteUri);
    }

    [Fact]
    public async Task With_an_SPA_link_url_the_mail_points_to_the_SPA_page()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?>
        {
            ["Activation:LinkUrl"] = "https://app.example.test/activate",
        });
        await app.RegisterAsync("alice", "alice@example.com");

        var mail = await smtp.WaitForMailAsync("alice@example.com");

        Assert.Equal("https://app.example.test/activate", mail.Link.GetLeftPart(UriPartial.Path));
        Assert.Equal("activated", await (await app.Client.PostAsJsonAsync("/activate", new { token = mail.Token })).StatusAsync());
    }

    [Fact]
    public async Task Fifty_parallel_activations_of_one_token_give_one_activated_and_the_rest_already_active()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.Client.GetAsync(TestApp.PathOf(mail.Link))));
        var statuses = await Task.WhenAll(responses.Select(r => r.StatusAsync()));

        Assert.Equal(1, statuses.Count(s => s == "activated"));
        Assert.Equal(49, statuses.Count(s => s == "already_active"));
    }
}
