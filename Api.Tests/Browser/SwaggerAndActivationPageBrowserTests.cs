using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Accounts.Api.Tests.Browser;

/// <summary>The pages the API itself serves a person: Swagger UI, and the pages mailed links open when no SPA is configured.</summary>
[Collection(SharedBrowser.Name)]
public sealed class SwaggerAndActivationPageBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Swagger_UI_try_it_out_on_register_answers_202_and_creates_the_account()
    {
        await using var app = TestApp.Start(smtp: null);
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "swagger").AbsoluteUri);

        var register = page.Locator("#operations-Accounts-Register");
        await register.Locator(".opblock-summary").ClickAsync();
        await register.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await Expect(register.Locator("textarea.body-param__text")).ToContainTextAsync("\"username\": \"alice\"");
        await register.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();

        var status = register.Locator(".live-responses-table td.response-col_status:not(.col_header)");
        await Expect(status).ToHaveTextAsync("202");
        await Expect(register.Locator(".live-responses-table td.response-col_description:not(.col_header)")).ToContainTextAsync("pending_activation");
        await BrowserFixture.ScreenshotAsync(register.Locator(".responses-wrapper"), "swagger-register-202");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE username = 'alice';"));
    }

    [Fact]
    public async Task Swagger_UI_authorize_with_the_bearer_token_then_try_it_out_on_me_answers_200()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).EnsureSuccessStatusCode();
        var login = await app.LoginAsync("alice", TestData.StrongPassword);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;

        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "swagger").AbsoluteUri);
        var me = page.Locator("#operations-Accounts-Me");
        await me.Locator(".opblock-summary").ClickAsync();
        await me.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        var status = me.Locator(".live-responses-table td.response-col_status:not(.col_header)");

        // Before Authorize: the operation's lock is open and the API answers 401.
        await me.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("401");

        await page.Locator(".scheme-container button.authorize").ClickAsync();
        var dialog = page.Locator(".modal-ux");
        // The dialog offers both schemes (the bearer token and the session cookie): this is the bearer's form.
        var bearer = dialog.Locator("form").Filter(new() { Has = page.Locator("#auth-bearer-value") });
        await bearer.Locator("#auth-bearer-value").FillAsync(token);
        await bearer.Locator(".auth-btn-wrapper button.authorize").ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Remove authorization" })).ToBeVisibleAsync(); // "Logout": authorized
        await dialog.Locator("button.btn-done").First.ClickAsync();

        await me.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("200");
        await Expect(me.Locator(".live-responses-table td.response-col_description:not(.col_header)")).ToContainTextAsync("\"username\": \"alice\"");
        await Expect(me.Locator(".curl").First).ToContainTextAsync("Authorization: Bearer");
        await BrowserFixture.ScreenshotAsync(me.Locator(".responses-wrapper"), "swagger-me-200");
    }

    [Fact]
    public async Task A_mailed_link_opened_in_the_browser_changes_nothing_until_its_Activate_button_is_pressed_in_English_and_in_Chinese()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        await app.RegisterAsync("wangfang", "wangfang@example.com", language: "zh-CN");
        var english = await smtp.WaitForMailAsync("alice@example.com");
        var chinese = await smtp.WaitForMailAsync("wangfang@example.com");

        foreach (var (mail, username, lang, heading, button, done, message) in new[]
        {
            (english, "alice", "en", "Activate your account", "Activate", "Account activated", "Your account is active. You can sign in now."),
            (chinese, "wangfang", "zh-CN", "激活您的账户", "激活账户", "账户已激活", "您的账户已经激活，现在可以登录了。"),
        })
        {
            var (context, page) = await OpenLinkPageAsync(app, mail.Link, lang, heading);
            await using var _ = context;
            await BrowserFixture.ScreenshotAsync(page, $"activation-confirm.{lang}");
            // The page has loaded and run whatever it has: still pending (a scanner that runs pages stops here).
            Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users WHERE username = @username;", new { username }));
            await Axe.AssertNoViolationsAsync(page, $"the activation link's confirm page ({lang})");

            await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();

            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = done })).ToBeVisibleAsync();
            await Expect(page.GetByText(message)).ToBeVisibleAsync();
            Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users WHERE username = @username;", new { username }));
            await BrowserFixture.ScreenshotAsync(page, $"activation-page.{lang}");
            await Axe.AssertNoViolationsAsync(page, $"the activation result page ({lang})");
        }
    }

    [Fact]
    public async Task A_mailed_email_change_link_opened_in_the_browser_changes_nothing_until_its_button_is_pressed_in_English_and_in_Chinese()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        foreach (var (username, lang, heading, button, done, message) in new[]
        {
            ("alice", "en", "Confirm your new email address", "Confirm", "Email address changed", "The account's email address is now alice.new@example.com. Sign in with it from now on."),
            ("wangfang", "zh-CN", "确认新邮箱", "确认邮箱", "邮箱已更改", "账户的邮箱现在是 wangfang.new@example.com，以后请用它登录。"),
        })
        {
            var (token, _) = await app.SignedInAccountAsync(username, $"{username}@example.com", language: lang);
            using (var change = new HttpRequestMessage(HttpMethod.Post, "/me/email") { Content = JsonContent.Create(new { email = $"{username}.new@example.com", password = TestData.StrongPassword }) })
            {
                change.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(change)).StatusCode);
            }

            var mail = await smtp.WaitForMailAsync($"{username}.new@example.com");
            var (context, page) = await OpenLinkPageAsync(app, mail.Link, lang, heading);
            await using var _ = context;
            Assert.Equal($"{username}@example.com", await app.ScalarAsync<string>("SELECT email FROM users WHERE username = @username;", new { username }));
            await BrowserFixture.ScreenshotAsync(page, $"email-change-confirm.{lang}");
            await Axe.AssertNoViolationsAsync(page, $"the email change link's confirm page ({lang})");

            await page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();

            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = done })).ToBeVisibleAsync();
            await Expect(page.GetByText(message)).ToBeVisibleAsync();
            Assert.Equal($"{username}.new@example.com", await app.ScalarAsync<string>("SELECT email FROM users WHERE username = @username;", new { username }));
            await BrowserFixture.ScreenshotAsync(page, $"email-change-page.{lang}");
            await Axe.AssertNoViolationsAsync(page, $"the email change result page ({lang})");
        }
    }

    [Fact]
    public async Task The_password_reset_form_and_a_dead_links_page_pass_axe_in_English_and_in_Chinese()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["PasswordReset:Cooldown"] = "00:00:00" });
        await app.SignedInAccountAsync("alice", "alice@example.com");
        foreach (var (locale, heading, newPassword, repeat, save, done) in new[]
        {
            ("en-US", "Choose a new password", "New password", "Repeat it", "Save", "Your password is changed. You can sign in with it now."),
            ("zh-CN", "设置新密码", "新密码", "再输入一次", "保存", "密码已修改，现在可以用新密码登录了。"),
        })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" })).StatusCode);
            var mail = await smtp.WaitForMailAsync("alice@example.com");
            await using var context = await browser.NewContextAsync(locale);
            var page = await context.NewPageAsync();
            await page.GotoAsync(new Uri(app.BaseAddress, TestApp.PathOf(mail.Link)).AbsoluteUri);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading })).ToBeVisibleAsync();
            await Axe.AssertNoViolationsAsync(page, $"the password reset form ({locale})");

            await page.GetByLabel(newPassword).FillAsync("password");
            await page.GetByLabel(repeat).FillAsync("something else");
            await page.GetByRole(AriaRole.Button, new() { Name = save }).ClickAsync();
            await Expect(page.Locator("#confirmPassword-error")).Not.ToBeEmptyAsync();
            await Axe.AssertNoViolationsAsync(page, $"the password reset form showing errors ({locale})");

            await page.GetByLabel(newPassword).FillAsync(TestData.StrongPassword + " " + locale);
            await page.GetByLabel(repeat).FillAsync(TestData.StrongPassword + " " + locale);
            await page.GetByRole(AriaRole.Button, new() { Name = save }).ClickAsync();
            await Expect(page.GetByText(done)).ToBeVisibleAsync();
            await Axe.AssertNoViolationsAsync(page, $"the password reset form when done ({locale})");
            Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", TestData.StrongPassword + " " + locale)).StatusCode);

            var dead = await page.GotoAsync(new Uri(app.BaseAddress, "activate?token=" + new string('A', 43)).AbsoluteUri);
            Assert.Equal(404, dead!.Status);
            await Axe.AssertNoViolationsAsync(page, $"the invalid activation link's page ({locale})");
        }
    }

    /// <summary>
    /// Opens a mailed link in a browser whose language is English (the page must speak the
    /// account's, <paramref name="lang"/>), checks the page as served, and waits until it has loaded
    /// and run whatever it has, as a scanner that runs pages would.
    /// </summary>
    private async Task<(IBrowserContext Context, IPage Page)> OpenLinkPageAsync(TestApp app, Uri link, string lang, string heading)
    {
        var context = await browser.NewContextAsync("en-US");
        try
        {
            var page = await context.NewPageAsync();
            var response = await page.GotoAsync(new Uri(app.BaseAddress, TestApp.PathOf(link)).AbsoluteUri);
            Assert.Equal(200, response!.Status);
            Assert.Contains("frame-ancestors 'none'", response.Headers["content-security-policy"]);
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", lang);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading })).ToBeVisibleAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            return (context, page);
        }
        catch
        {
            await context.DisposeAsync();
            throw;
        }
    }
}
