using Accounts.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Accounts.Api.Tests.Browser;

/// <summary>The pages the API itself serves a person: Swagger UI, and the activation page when no SPA is configured.</summary>
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
    public async Task The_activation_page_without_a_redirect_renders_in_English_and_in_Chinese()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        await app.RegisterAsync("wangfang", "wangfang@example.com", language: "zh-CN");
        var english = await smtp.WaitForMailAsync("alice@example.com");
        var chinese = await smtp.WaitForMailAsync("wangfang@example.com");

        await using (var context = await browser.NewContextAsync("en-US"))
        {
            var page = await context.NewPageAsync();
            var response = await page.GotoAsync(new Uri(app.BaseAddress, TestApp.PathOf(english.Link)).AbsoluteUri);

            Assert.Equal(200, response!.Status);
            Assert.Contains("frame-ancestors 'none'", response.Headers["content-security-policy"]);
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Account activated" })).ToBeVisibleAsync();
            await Expect(page.GetByText("Your account is active. You can sign in now.")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "activation-page.en");
        }

        await using (var context = await browser.NewContextAsync("zh-CN"))
        {
            var page = await context.NewPageAsync();
            var response = await page.GotoAsync(new Uri(app.BaseAddress, TestApp.PathOf(chinese.Link)).AbsoluteUri);

            Assert.Equal(200, response!.Status);
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "账户已激活" })).ToBeVisibleAsync();
            await Expect(page.GetByText("您的账户已经激活，现在可以登录了。")).ToBeVisibleAsync();
            await BrowserFixture.ScreenshotAsync(page, "activation-page.zh-CN");
        }
    }
}
