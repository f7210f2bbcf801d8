using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Accounts.Api.Tests.Browser;

/// <summary>
/// Cookie mode in Chromium, through the demo (which signs in with <c>useCookies=true</c>): the
/// session is in cookies no script can read, a form on another site cannot use them, one on the
/// same site without <c>X-CSRF</c> is refused, an expired access token is renewed by the refresh
/// cookie, and signing out everywhere ends another browser's session.
/// </summary>
[Collection(SharedBrowser.Name)]
public sealed class SessionCookieBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_demo_keeps_the_session_in_HttpOnly_SameSite_Strict_cookies_that_no_script_reads_and_no_token_in_storage()
    {
        await using var app = DemoApp.Start(out var smtp);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await using var context = await browser.NewContextAsync("en-US");
        var page = await SignInAsync(context, app, "alice");

        var cookies = (await context.CookiesAsync()).Where(c => c.Name.StartsWith("accounts_", StringComparison.Ordinal)).ToDictionary(c => c.Name);
        Assert.Equal(["accounts_refresh", "accounts_session"], cookies.Keys.Order());
        Assert.All(cookies.Values, c =>
        {
            Assert.True(c.HttpOnly, $"{c.Name} is HttpOnly");
            Assert.Equal(SameSiteAttribute.Strict, c.SameSite);
        });
        Assert.Equal("/token/refresh", cookies["accounts_refresh"].Path);
        Assert.DoesNotContain("accounts_", await page.EvaluateAsync<string>("() => document.cookie"), StringComparison.Ordinal);
        var stored = await page.EvaluateAsync<string>("() => JSON.stringify([Object.values(sessionStorage), Object.values(localStorage)])");
        Assert.DoesNotContain(cookies["accounts_session"].Value, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(cookies["accounts_refresh"].Value, stored, StringComparison.Ordinal);

        // A reload is still signed in: the cookie, not the page's memory, holds the session.
        await page.ReloadAsync();
        await Expect(page.Locator("#profile-username")).ToHaveTextAsync("alice");
        await BrowserFixture.ScreenshotAsync(page, "demo-profile-cookie-mode");
    }

    [Fact]
    public async Task A_form_posted_from_another_site_gets_no_cookie_and_one_from_the_same_site_without_X_CSRF_is_refused()
    {
        await using var app = DemoApp.Start(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await using var context = await browser.NewContextAsync("en-US");
        var page = await SignInAsync(context, app, "alice");
        var sessions = await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;");
        var target = DemoApp.Url(app, "logout/all");

        // Pages the test serves through the browser itself: one on another site, one on the API's
        // own site (another port of 127.0.0.1), each a form that posts itself to /logout/all.
        var attacker = $"<!doctype html><title>prize</title><form method=post action=\"{target}\"><input name=x value=1></form><script>document.forms[0].submit()</script>";
        await context.RouteAsync("http://evil.example/**", route => route.FulfillAsync(new() { ContentType = "text/html", Body = attacker }));
        await context.RouteAsync("http://127.0.0.1:9/**", route => route.FulfillAsync(new() { ContentType = "text/html", Body = attacker }));

        var crossSite = await context.NewPageAsync();
        var crossSiteAnswer = await crossSite.RunAndWaitForResponseAsync(() => crossSite.GotoAsync("http://evil.example/win"), r => r.Url == target);
        Assert.Equal(401, crossSiteAnswer.Status); // SameSite=Strict: the browser sent no cookie

        var sameSite = await context.NewPageAsync();
        var sameSiteAnswer = await sameSite.RunAndWaitForResponseAsync(() => sameSite.GotoAsync("http://127.0.0.1:9/win"), r => r.Url == target);
        Assert.Equal(403, sameSiteAnswer.Status); // the cookie went, the X-CSRF header could not
        Assert.Contains("csrf_header_required", await sameSiteAnswer.TextAsync(), StringComparison.Ordinal);

        Assert.Equal(sessions, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        await page.ReloadAsync();
        await Expect(page.Locator("#profile-username")).ToHaveTextAsync("alice");
    }

    [Fact]
    public async Task An_expired_access_token_is_renewed_by_the_refresh_cookie_and_signing_out_everywhere_ends_the_other_browser_s_session()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = DemoApp.Start(out _, time);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await using var laptop = await browser.NewContextAsync("en-US");
        await using var phone = await browser.NewContextAsync("en-US");
        var onLaptop = await SignInAsync(laptop, app, "alice");
        var onPhone = await SignInAsync(phone, app, "alice");
        var before = (await laptop.CookiesAsync()).Single(c => c.Name == "accounts_refresh").Value;

        // Past Login:AccessTokenLifetime: /me answers 401, the demo refreshes once and reads it again.
        time.Advance(TimeSpan.FromMinutes(61));
        await onLaptop.ReloadAsync();
        await Expect(onLaptop.Locator("#profile-username")).ToHaveTextAsync("alice");
        Assert.NotEqual(before, (await laptop.CookiesAsync()).Single(c => c.Name == "accounts_refresh").Value);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM refresh_tokens WHERE retired_at IS NOT NULL;"));

        await onLaptop.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
        await Expect(onLaptop.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.DoesNotContain(await laptop.CookiesAsync(), c => c.Name.StartsWith("accounts_", StringComparison.Ordinal));
        await onPhone.ReloadAsync();
        await Expect(onPhone.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(onPhone.Locator("#signin-error")).ToBeHiddenAsync();
    }

    private static async Task<IPage> SignInAsync(IBrowserContext context, TestApp app, string login)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(DemoApp.Url(app, "demo/login.html"));
        await page.GetByLabel("Username or email").FillAsync(login);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#profile-username")).ToHaveTextAsync(login);
        return page;
    }
}
