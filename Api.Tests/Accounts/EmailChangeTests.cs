using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

/// <summary><c>POST /me/email</c> and <c>/email/confirm</c> over HTTP, with real mail: on SQLite here, on PostgreSQL in Api.Tests.Postgres.</summary>
public sealed class EmailChangeTests
{
    private const string NewAddress = "alice.new@example.com";

    [Fact]
    public async Task The_new_address_gets_a_link_the_old_a_notice_nothing_changes_until_the_link_and_then_only_the_new_address_signs_in()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;

        var asked = await ChangeAsync(app, token, NewAddress, TestData.StrongPassword);

        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        Assert.Equal("pending_confirmation", await asked.StatusAsync());
        var confirm = await smtp.WaitForMailAsync(NewAddress);
        var notice = await smtp.WaitForMailAsync("alice@example.com");
        Assert.StartsWith("Confirm your new", confirm.Subject, StringComparison.Ordinal);
        Assert.Contains("/email/confirm?token=", confirm.Link.AbsoluteUri, StringComparison.Ordinal);
        Assert.Matches("^\\d{6}$", confirm.Code);
        Assert.Contains("change its email address", notice.TextBody, StringComparison.Ordinal);
        Assert.Equal("alice@example.com", await app.ScalarAsync<string>("SELECT email FROM users;"));
        await (await app.LoginAsync(NewAddress, TestData.StrongPassword)).ProblemAsync(401, "invalid_credentials");

        var changed = await app.Client.GetAsync(TestApp.PathOf(confirm.Link));
        var body = await changed.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("email_changed", body.GetProperty("status").GetString());
        Assert.Equal(NewAddress, body.GetProperty("email").GetString());
        Assert.Equal(NewAddress, (await (await MeAsync(app, token)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("email").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync(NewAddress, TestData.StrongPassword)).StatusCode);
        await (await app.LoginAsync("alice@example.com", TestData.StrongPassword)).ProblemAsync(401, "invalid_credentials");
        // Followed again: the same answer, nothing more.
        Assert.Equal("email_changed", await (await app.Client.GetAsync(TestApp.PathOf(confirm.Link))).StatusAsync());
    }

    [Fact]
    public async Task The_code_confirms_and_a_wrong_code_or_an_unknown_address_gets_code_invalid()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        await ChangeAsync(app, token, NewAddress, TestData.StrongPassword);
        var confirm = await smtp.WaitForMailAsync(NewAddress);
        var wrong = confirm.Code == "000000" ? "000001" : "000000";

        await (await app.Client.PostAsJsonAsync("/email/confirm", new { email = NewAddress, code = wrong })).ProblemAsync(400, "code_invalid");
        await (await app.Client.PostAsJsonAsync("/email/confirm", new { email = "alice@example.com", code = confirm.Code })).ProblemAsync(400, "code_invalid");
        await (await app.Client.PostAsJsonAsync("/email/confirm", new { email = "nobody@example.com", code = confirm.Code })).ProblemAsync(400, "code_invalid");
        var changed = await app.Client.PostAsJsonAsync("/email/confirm", new { email = NewAddress, code = confirm.Code });

        Assert.Equal("email_changed", await changed.StatusAsync());
        Assert.Equal(NewAddress, await app.ScalarAsync<string>("SELECT email FROM users;"));
    }

    [Fact]
    public async Task A_new_address_that_has_an_account_gets_the_same_202_and_its_owner_a_notice_instead_of_a_link()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["EmailChange:Cooldown"] = "00:00:00" });
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        await app.SignedInAccountAsync("bob", "bob@example.com");

        var free = await ChangeAsync(app, token, "free@example.com", TestData.StrongPassword);
        await smtp.WaitForMailAsync("free@example.com");
        await smtp.WaitForMailAsync("alice@example.com");
        var taken = await ChangeAsync(app, token, "BOB@example.com", TestData.StrongPassword);

        Assert.Equal(free.StatusCode, taken.StatusCode);
        Assert.Equal(await free.Content.ReadAsStringAsync(), await taken.Content.ReadAsStringAsync());
        var owner = await smtp.WaitForMailAsync("bob@example.com");
        Assert.Contains("already belongs to your account", owner.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("http", owner.TextBody, StringComparison.Ordinal);
        var requester = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Contains("change its email address", requester.TextBody, StringComparison.Ordinal);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens WHERE new_email_key = 'bob@example.com';"));
        Assert.Equal("bob@example.com", await app.ScalarAsync<string>("SELECT email FROM users WHERE username = 'bob';"));
        Assert.Equal("alice@example.com", await app.ScalarAsync<string>("SELECT email FROM users WHERE username = 'alice';"));
    }

    [Fact]
    public async Task A_wrong_password_is_403_and_mails_nothing_a_bad_address_is_400_and_no_token_is_401()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        var before = await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;");

        await (await ChangeAsync(app, token, NewAddress, "not the password")).ProblemAsync(403, "wrong_password");
        var bad = await (await ChangeAsync(app, token, "not an address", "")).ProblemAsync(400, "validation_failed");
        var same = await (await ChangeAsync(app, token, "ALICE@example.com", TestData.StrongPassword)).ProblemAsync(400, "validation_failed");
        var anonymous = await app.Client.PostAsJsonAsync("/me/email", new { email = NewAddress, password = TestData.StrongPassword });

        Assert.Equal(["email", "password"], bad.ErrorFields().Order());
        Assert.Equal(["email"], same.ErrorFields());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
    }

    [Fact]
    public async Task Within_the_cooldown_a_second_request_answers_202_and_mails_nothing()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        await ChangeAsync(app, token, NewAddress, TestData.StrongPassword);
        var before = await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;");

        var again = await ChangeAsync(app, token, "other@example.com", TestData.StrongPassword);

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
    }

    [Fact]
    public async Task A_browser_s_GET_of_the_link_changes_nothing_and_the_page_s_button_does()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        await ChangeAsync(app, token, NewAddress, TestData.StrongPassword);
        var confirm = await smtp.WaitForMailAsync(NewAddress);
        using var browser = new HttpClient { BaseAddress = app.BaseAddress };
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");

        var page = await browser.GetAsync(TestApp.PathOf(confirm.Link));
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<form method=\"post\" action=\"/email/confirm\">", html, StringComparison.Ordinal);
        Assert.Equal("alice@example.com", await app.ScalarAsync<string>("SELECT email FROM users;"));

        var pressed = await browser.PostAsync("/email/confirm", new FormUrlEncodedContent([new("token", confirm.Token)]));

        Assert.Equal(HttpStatusCode.OK, pressed.StatusCode);
        Assert.Contains(NewAddress, await pressed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(NewAddress, await app.ScalarAsync<string>("SELECT email FROM users;"));
    }

    [Fact]
    public async Task Two_accounts_racing_for_one_address_one_wins_and_the_other_gets_409_email_taken()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var alice = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;
        var carol = (await app.SignedInAccountAsync("carol", "carol@example.com")).Token;
        await ChangeAsync(app, alice, "shared@example.com", TestData.StrongPassword);
        await ChangeAsync(app, carol, "shared@example.com", TestData.StrongPassword);
        var first = await smtp.WaitForMailAsync("shared@example.com");
        var second = await smtp.WaitForMailAsync("shared@example.com");

        var answers = await Task.WhenAll(
            app.Client.GetAsync(TestApp.PathOf(first.Link)),
            app.Client.GetAsync(TestApp.PathOf(second.Link)));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        await answers.Single(a => a.StatusCode == HttpStatusCode.Conflict).ProblemAsync(409, "email_taken");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE email = 'shared@example.com';"));
    }

    private static Task<HttpResponseMessage> ChangeAsync(TestApp app, string token, string email, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/me/email") { Content = JsonContent.Create(new { email, password }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return app.Client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> MeAsync(TestApp app, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return app.Client.SendAsync(request);
    }
}
