using System.Net;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Accounts.Api.Tests.Browser;

/// <summary>
/// The demo served from a second origin (another loopback port) calling the API, as an SPA on its
/// own dev server does: the browser lets it through only when the API lists that origin.
/// </summary>
[Collection(SharedBrowser.Name)]
public sealed class CorsBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_demo_on_an_allowed_origin_registers_signs_in_and_reads_the_profile()
    {
        await using var site = await StaticSite.StartAsync();
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = site.Origin });
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{site.Origin}/demo/?api={Uri.EscapeDataString(app.BaseAddress.AbsoluteUri)}");

        await page.GetByLabel("Username").FillAsync("alice");
        await page.GetByLabel("Email").FillAsync("alice@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByLabel("Confirm password").FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your mail" })).ToBeVisibleAsync();

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());

        // The next page keeps talking to the API it was given: a bearer token crosses origins too.
        await page.GetByRole(AriaRole.Link, new() { Name = "Go to sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{site.Origin}/demo/login.html");
        await page.GetByLabel("Username or email").FillAsync("alice@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.Locator("#profile-username")).ToHaveTextAsync("alice");
        await Expect(page.Locator("#api-base")).ToHaveTextAsync(app.BaseAddress.AbsoluteUri.TrimEnd('/'));
        await BrowserFixture.ScreenshotAsync(page, "cors-allowed-origin-profile");
    }

    [Fact]
    public async Task The_demo_on_an_origin_that_is_not_allowed_is_refused_by_the_browser()
    {
        await using var site = await StaticSite.StartAsync();
        await using var app = TestApp.StartWithSmtp(out _, new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = "http://127.0.0.1:1" });
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => console.Add(message.Text);
        await page.GotoAsync($"{site.Origin}/demo/?api={Uri.EscapeDataString(app.BaseAddress.AbsoluteUri)}");

        await page.GetByLabel("Username").FillAsync("mallory");
        await page.GetByLabel("Email").FillAsync("mallory@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByLabel("Confirm password").FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        await Expect(page.Locator("#register-error")).ToContainTextAsync($"Could not reach the API at {app.BaseAddress.AbsoluteUri.TrimEnd('/')}");
        await BrowserFixture.ScreenshotAsync(page, "cors-refused-origin");
        Assert.Contains(console, m => m.Contains("blocked by CORS policy", StringComparison.Ordinal));
        // The JSON POST needs a preflight, which failed: the request itself never reached the API.
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health/live")).StatusCode);
    }
}
