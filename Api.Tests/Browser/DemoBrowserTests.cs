using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Accounts.Api.Tests.Browser;

/// <summary>The demo SPA as a person uses it, in Chromium: register, read the mail, follow the link, sign in.</summary>
[Collection(SharedBrowser.Name)]
public sealed class DemoBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Register_in_the_demo_fix_the_field_errors_follow_the_mailed_link_sign_in_and_see_the_profile()
    {
        await using var app = DemoApp.Start(out var smtp);
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(DemoApp.Url(app, "demo/"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create an account" })).ToBeVisibleAsync();

        await page.GetByLabel("Username").FillAsync("al");
        await page.GetByLabel("Email").FillAsync("not an address");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("password");
        await page.GetByLabel("Confirm password").FillAsync("something else");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        await Expect(page.Locator("#username-error")).ToHaveTextAsync("Username must be 3 to 32 characters long.");
        await Expect(page.Locator("#email-error")).ToHaveTextAsync("Email is not a valid email address.");
        await Expect(page.Locator("#password-error")).ToContainTextAsync("Password is too easy to guess");
        await Expect(page.Locator("#confirmPassword-error")).ToHaveTextAsync("Passwords do not match.");
        await Expect(page.Locator("#birthday-error")).ToBeHiddenAsync();
        await Expect(page.GetByLabel("Username")).ToHaveAttributeAsync("aria-invalid", "true");
        await BrowserFixture.ScreenshotAsync(page, "demo-register-field-errors");
        await Axe.AssertNoViolationsAsync(page, "the register form showing field errors");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));

        await page.GetByLabel("Username").FillAsync("alice");
        await page.GetByLabel("Email").FillAsync("alice@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByLabel("Confirm password").FillAsync(TestData.StrongPassword);
        await page.GetByLabel("Birthday").FillAsync("1990-05-17");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your mail" })).ToBeVisibleAsync();
        await Expect(page.Locator("#check-mail-sent")).ToHaveTextAsync("We sent an activation link to alice@example.com.");
        await BrowserFixture.ScreenshotAsync(page, "demo-check-your-mail");
        await Axe.AssertNoViolationsAsync(page, "the demo's check-your-mail step with its code form");

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.StartsWith(DemoApp.Url(app, "activate?token="), mail.Link.AbsoluteUri);
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync(); // the API's page: nothing changes before this
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=activated"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Account activated" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "demo-activated");
        await Axe.AssertNoViolationsAsync(page, "the demo's activation page after a link activated");

        await page.Locator("#activation-sign-in a").ClickAsync();
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/login.html"));
        await page.GetByLabel("Username or email").FillAsync("alice");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("not the password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#signin-error")).ToHaveTextAsync("The login or the password is wrong.");
        await Axe.AssertNoViolationsAsync(page, "the sign-in form showing an error");

        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your profile" })).ToBeVisibleAsync();
        await Expect(page.Locator("#profile-username")).ToHaveTextAsync("alice");
        await Expect(page.Locator("#profile-email")).ToHaveTextAsync("alice@example.com");
        await Expect(page.Locator("#profile-birthday")).ToHaveTextAsync("1990-05-17");
        await Expect(page.Locator("#profile-status")).ToHaveTextAsync("Active");
        await BrowserFixture.ScreenshotAsync(page, "demo-profile");
        await Axe.AssertNoViolationsAsync(page, "the profile with its email and password forms");

        await page.ReloadAsync();
        await Expect(page.Locator("#profile-username")).ToHaveTextAsync("alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();

        // Signing out ended the session on the server, not only on the page: a reload stays signed out.
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_demo_and_the_mail_speak_Chinese_to_a_browser_that_prefers_it()
    {
        await using var app = DemoApp.Start(out var smtp);
        await using var context = await browser.NewContextAsync("zh-CN");
        var page = await context.NewPageAsync();
        await page.GotoAsync(DemoApp.Url(app, "demo/"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "注册账户" })).ToBeVisibleAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await Axe.AssertNoViolationsAsync(page, "the register form in Chinese");

        await page.GetByLabel("用户名").FillAsync("李小龙");
        await page.GetByLabel("邮箱").FillAsync("lilei@example.com");
        await page.GetByLabel("密码", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByLabel("确认密码").FillAsync("不一样的密码");
        await page.GetByRole(AriaRole.Button, new() { Name = "注册" }).ClickAsync();
        await Expect(page.Locator("#confirmPassword-error")).ToBeVisibleAsync();

        await page.GetByLabel("确认密码").FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "注册" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "请查收邮件" })).ToBeVisibleAsync();
        await Expect(page.Locator("#check-mail-sent")).ToHaveTextAsync("激活链接已发送到 lilei@example.com。");
        await BrowserFixture.ScreenshotAsync(page, "demo-check-your-mail.zh-CN");
        await Axe.AssertNoViolationsAsync(page, "the check-your-mail step in Chinese");

        var mail = await smtp.WaitForMailAsync("lilei@example.com");
        Assert.StartsWith("激活", mail.Subject);
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "激活账户", Exact = true }).ClickAsync(); // the API's page: nothing changes before this
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=activated"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "账户已激活" })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "demo-activated.zh-CN");
        await Axe.AssertNoViolationsAsync(page, "the activation page in Chinese");
    }

    [Fact]
    public async Task An_expired_link_lands_on_the_demo_which_mails_a_fresh_link_that_activates()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = DemoApp.Start(out var smtp, time);
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("bob", "bob@example.com")).StatusCode);
        var first = await smtp.WaitForMailAsync("bob@example.com");
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(first.Link.AbsoluteUri);
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=expired"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Link expired" })).ToBeVisibleAsync();
        await Expect(page.Locator("#activation-sign-in")).ToBeHiddenAsync();
        await page.Locator("#resend-form").GetByLabel("Email").FillAsync("bob@example.com");
        await BrowserFixture.ScreenshotAsync(page, "demo-link-expired");
        await Axe.AssertNoViolationsAsync(page, "the expired-link page with its resend form");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a new link" }).ClickAsync();
        await Expect(page.Locator("#resend-done")).ToBeVisibleAsync();
        await Axe.AssertNoViolationsAsync(page, "the expired-link page after a resend");

        var second = await smtp.WaitForMailAsync("bob@example.com");
        Assert.NotEqual(first.Token, second.Token);
        await page.GotoAsync(second.Link.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync(); // the API's page: nothing changes before this
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=activated"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Account activated" })).ToBeVisibleAsync();

        await page.GotoAsync(second.Link.AbsoluteUri);
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=already_active"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Already active" })).ToBeVisibleAsync();

        await page.GotoAsync(DemoApp.Url(app, "activate?token=" + new string('A', 43)));
        await Expect(page).ToHaveURLAsync(DemoApp.Url(app, "demo/activated.html?status=invalid"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Link not valid" })).ToBeVisibleAsync();
        await Axe.AssertNoViolationsAsync(page, "the invalid-link page with its code form");
    }

    [Fact]
    public async Task With_Activation_LinkUrl_on_the_demo_the_page_drops_the_token_from_the_address_and_posts_it_when_the_button_is_pressed()
    {
        var port = BrowserFixture.FreePort();
        await using var app = TestApp.Start(new TestSmtpServer(), DemoApp.Settings(port, linkToDemo: true), port: port);
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("carol", "carol@example.com")).StatusCode);
        var mail = await app.Smtp!.WaitForMailAsync("carol@example.com");
        Assert.StartsWith(DemoApp.Url(app, "demo/activated.html?token="), mail.Link.AbsoluteUri);

        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(mail.Link.AbsoluteUri);

        // The token leaves the address at once, and nothing is posted until the button is pressed.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Activate your account" })).ToBeVisibleAsync();
        Assert.Equal(DemoApp.Url(app, "demo/activated.html"), page.Url);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users;"));
        await Axe.AssertNoViolationsAsync(page, "the demo's activation page waiting for the button");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate my account" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Account activated" })).ToBeVisibleAsync();
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users;"));
        await BrowserFixture.ScreenshotAsync(page, "demo-activated-from-link-url");
        var me = await app.Client.PostAsJsonAsync("/login", new { login = "carol", password = TestData.StrongPassword });
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task The_code_from_the_mail_typed_into_the_demo_activates_after_registration_or_on_the_activation_page()
    {
        await using var app = DemoApp.Start(out var smtp);
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();

        await page.GotoAsync(DemoApp.Url(app, "demo/"));
        await page.GetByLabel("Username").FillAsync("dana");
        await page.GetByLabel("Email").FillAsync("dana@example.com");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByLabel("Confirm password").FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        var mail = await smtp.WaitForMailAsync("dana@example.com");
        var wrong = mail.Code == "000000" ? "000001" : "000000";

        var code = page.GetByLabel("Enter the 6-digit code we sent");
        await code.FillAsync(wrong);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
        await Expect(page.Locator("#code-error")).ToHaveTextAsync("This code is not valid. Check it, or ask for a new mail.");
        await Axe.AssertNoViolationsAsync(page, "the code form showing an error");
        await code.FillAsync(mail.Code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
        await Expect(page.Locator("#code-done")).ToHaveTextAsync("Your account is active. You can sign in now.");
        await BrowserFixture.ScreenshotAsync(page, "demo-code-activated");
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users WHERE username = 'dana';"));

        // On another device: the activation page alone, the address and the code typed in.
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("erin", "erin@example.com")).StatusCode);
        var second = await smtp.WaitForMailAsync("erin@example.com");
        await page.GotoAsync(DemoApp.Url(app, "demo/activated.html"));
        await Axe.AssertNoViolationsAsync(page, "the demo's activation page opened without a link");
        var form = page.Locator("#code-form");
        await form.GetByLabel("Email").FillAsync("erin@example.com");
        await form.GetByLabel("Code").FillAsync(second.Code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Account activated" })).ToBeVisibleAsync();
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users WHERE username = 'erin';"));
    }

    [Fact]
    public async Task On_the_profile_page_change_the_email_with_the_mailed_code_then_the_password_which_signs_out_everywhere_then_delete_the_account()
    {
        const string newEmail = "alice.new@example.com";
        const string newPassword = "a new horse battery staple";
        await using var app = DemoApp.Start(out var smtp);
        var (earlierToken, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        await using var context = await browser.NewContextAsync("en-US");
        var page = await context.NewPageAsync();
        await page.GotoAsync(DemoApp.Url(app, "demo/login.html"));
        await Axe.AssertNoViolationsAsync(page, "the sign-in form");
        await page.GetByLabel("Username or email").FillAsync("alice");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your profile" })).ToBeVisibleAsync();

        // The email: a wrong password first, then the right one; the address changes only with the code.
        var emailForm = page.Locator("#email-form");
        await emailForm.GetByLabel("New email").FillAsync(newEmail);
        await emailForm.GetByLabel("Current password").FillAsync("not the password");
        await emailForm.GetByRole(AriaRole.Button, new() { Name = "Send confirmation" }).ClickAsync();
        await Expect(page.Locator("#email-password-error")).ToHaveTextAsync("The password is wrong.");
        await Expect(emailForm.GetByLabel("Current password")).ToHaveAttributeAsync("aria-invalid", "true");
        await Axe.AssertNoViolationsAsync(page, "the email form showing an error");

        await emailForm.GetByLabel("Current password").FillAsync(TestData.StrongPassword);
        await emailForm.GetByRole(AriaRole.Button, new() { Name = "Send confirmation" }).ClickAsync();
        await Expect(page.Locator("#email-code-sent")).ToHaveTextAsync(
            $"We sent a link and a 6-digit code to {newEmail}. Open the link, or enter the code here: the address changes only then.");
        var confirmation = await smtp.WaitForMailAsync(newEmail);
        var notice = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Contains("change its email address", notice.TextBody, StringComparison.Ordinal);
        Assert.Equal("alice@example.com", await app.ScalarAsync<string>("SELECT email FROM users;"));

        var codeForm = page.Locator("#email-code-form");
        await codeForm.GetByLabel("Enter the 6-digit code we sent").FillAsync(confirmation.Code == "000000" ? "000001" : "000000");
        await codeForm.GetByRole(AriaRole.Button, new() { Name = "Confirm new email" }).ClickAsync();
        await Expect(page.Locator("#email-code-error")).ToHaveTextAsync("This code is not valid. Check it, or ask for a new mail.");
        await Axe.AssertNoViolationsAsync(page, "the email code form showing an error");
        await codeForm.GetByLabel("Enter the 6-digit code we sent").FillAsync(confirmation.Code);
        await codeForm.GetByRole(AriaRole.Button, new() { Name = "Confirm new email" }).ClickAsync();
        await Expect(page.Locator("#profile-email")).ToHaveTextAsync(newEmail);
        await Expect(page.Locator("#profile-notice")).ToHaveTextAsync($"Your email address is now {newEmail}. Sign in with it from now on.");
        await Expect(codeForm).ToBeHiddenAsync();
        await BrowserFixture.ScreenshotAsync(page, "demo-profile-email-changed");
        await Axe.AssertNoViolationsAsync(page, "the profile after the email changed");
        Assert.Equal(newEmail, await app.ScalarAsync<string>("SELECT email FROM users;"));

        // The password: a wrong current one, a weak new one, then a good one, which ends this sign-in too.
        var passwordForm = page.Locator("#password-form");
        await passwordForm.GetByLabel("Current password").FillAsync("not the password");
        await passwordForm.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
        await passwordForm.GetByLabel("Confirm new password").FillAsync(newPassword);
        await passwordForm.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.Locator("#current-password-error")).ToHaveTextAsync("The password is wrong.");

        await passwordForm.GetByLabel("Current password").FillAsync(TestData.StrongPassword);
        await passwordForm.GetByLabel("New password", new() { Exact = true }).FillAsync("password");
        await passwordForm.GetByLabel("Confirm new password").FillAsync("password");
        await passwordForm.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.Locator("#new-password-error")).ToContainTextAsync("Password is too easy to guess");
        await Expect(page.Locator("#current-password-error")).ToBeHiddenAsync();
        await Axe.AssertNoViolationsAsync(page, "the password form showing field errors");

        await passwordForm.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
        await passwordForm.GetByLabel("Confirm new password").FillAsync(newPassword);
        await passwordForm.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.Locator("#login-notice")).ToHaveTextAsync(
            "Your password is changed and every session has ended. Sign in with the new password.");
        await BrowserFixture.ScreenshotAsync(page, "demo-password-changed");
        await Axe.AssertNoViolationsAsync(page, "the sign-in form after the password changed");
        Assert.Contains("password", (await smtp.WaitForMailAsync(newEmail)).Subject, StringComparison.OrdinalIgnoreCase);
        // The password change ended the cookie's session: the demo cannot read /me with it (nor renew it).
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        using (var me = new HttpRequestMessage(HttpMethod.Get, "/me"))
        {
            me.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", earlierToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(me)).StatusCode);
        }

        await page.GetByLabel("Username or email").FillAsync(newEmail);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(newPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#profile-email")).ToHaveTextAsync(newEmail);
        await Expect(page.Locator("#login-notice")).ToBeHiddenAsync();

        // Delete the account: a wrong password first; then it is gone, and its username free again.
        var deleteForm = page.Locator("#delete-form");
        await deleteForm.GetByLabel("Current password").FillAsync("not the password");
        await deleteForm.GetByRole(AriaRole.Button, new() { Name = "Delete my account" }).ClickAsync();
        await Expect(page.Locator("#delete-password-error")).ToHaveTextAsync("The password is wrong.");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
        await deleteForm.GetByLabel("Current password").FillAsync(newPassword);
        await deleteForm.GetByRole(AriaRole.Button, new() { Name = "Delete my account" }).ClickAsync();
        await Expect(page.Locator("#login-notice")).ToHaveTextAsync("Your account is deleted. Its username and email address are free again.");
        await BrowserFixture.ScreenshotAsync(page, "demo-account-deleted");
        await Axe.AssertNoViolationsAsync(page, "the sign-in form after the account was deleted");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("alice", newEmail)).StatusCode);
    }

    [Fact]
    public async Task The_profile_page_changes_the_email_and_the_password_and_deletes_the_account_in_Chinese()
    {
        const string newEmail = "wang.new@example.com";
        const string newPassword = "a new horse battery staple";
        await using var app = DemoApp.Start(out var smtp);
        await app.SignedInAccountAsync("wangfang", "wangfang@example.com", language: "zh-CN");
        await using var context = await browser.NewContextAsync("zh-CN");
        var page = await context.NewPageAsync();
        await page.GotoAsync(DemoApp.Url(app, "demo/login.html"));
        await page.GetByLabel("用户名或邮箱").FillAsync("wangfang");
        await page.GetByLabel("密码", new() { Exact = true }).FillAsync(TestData.StrongPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "登录" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "个人资料" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "更改邮箱" })).ToBeVisibleAsync();
        await Expect(page).ToHaveTitleAsync("个人资料");
        await BrowserFixture.ScreenshotAsync(page, "demo-profile.zh-CN");
        await Axe.AssertNoViolationsAsync(page, "the profile in Chinese");

        var emailForm = page.Locator("#email-form");
        await emailForm.GetByLabel("新邮箱").FillAsync(newEmail);
        await emailForm.GetByLabel("当前密码").FillAsync(TestData.StrongPassword);
        await emailForm.GetByRole(AriaRole.Button, new() { Name = "发送确认邮件" }).ClickAsync();
        await Expect(page.Locator("#email-code-sent")).ToContainTextAsync(newEmail);
        var confirmation = await smtp.WaitForMailAsync(newEmail);
        Assert.StartsWith("确认", confirmation.Subject, StringComparison.Ordinal);
        var codeForm = page.Locator("#email-code-form");
        await codeForm.GetByLabel("输入我们发送的 6 位验证码").FillAsync(confirmation.Code);
        await codeForm.GetByRole(AriaRole.Button, new() { Name = "确认新邮箱" }).ClickAsync();
        await Expect(page.Locator("#profile-notice")).ToHaveTextAsync($"您的邮箱现在是 {newEmail}，以后请用它登录。");
        await Axe.AssertNoViolationsAsync(page, "the profile after the email changed, in Chinese");

        var passwordForm = page.Locator("#password-form");
        await passwordForm.GetByLabel("当前密码").FillAsync(TestData.StrongPassword);
        await passwordForm.GetByLabel("新密码", new() { Exact = true }).FillAsync(newPassword);
        await passwordForm.GetByLabel("确认新密码").FillAsync(newPassword);
        await passwordForm.GetByRole(AriaRole.Button, new() { Name = "修改密码" }).ClickAsync();
        await Expect(page.Locator("#login-notice")).ToHaveTextAsync("密码已修改，所有登录都已失效。请用新密码重新登录。");
        await Axe.AssertNoViolationsAsync(page, "the sign-in form after the password changed, in Chinese");

        await page.GetByLabel("用户名或邮箱").FillAsync(newEmail);
        await page.GetByLabel("密码", new() { Exact = true }).FillAsync(newPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "登录" }).ClickAsync();
        await page.Locator("#delete-form").GetByLabel("当前密码").FillAsync(newPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "删除我的账户" }).ClickAsync();
        await Expect(page.Locator("#login-notice")).ToHaveTextAsync("您的账户已删除，它的用户名和邮箱可以重新使用了。");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }
}
