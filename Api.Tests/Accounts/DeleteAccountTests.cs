using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

/// <summary><c>POST /me/delete</c> over HTTP, with real mail: on SQLite here, on PostgreSQL in Api.Tests.Postgres.</summary>
public sealed class DeleteAccountTests
{
    [Fact]
    public async Task Deleting_erases_the_account_and_everything_tied_to_it_ends_its_tokens_and_frees_its_username_and_email()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        var (bobToken, _) = await app.SignedInAccountAsync("bob", "bob@example.com");
        // Something of alice's in every table: failed sign-ins by username and by address, a code try,
        // a reset link with its mail.
        await app.LoginAsync("alice", "not the password");
        await app.LoginAsync("ALICE@example.com", "not the password");
        await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = "000000" });
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" })).StatusCode);
        await smtp.WaitForMailAsync("alice@example.com");
        await app.LoginAsync("bob", "not the password");
        var aliceId = await app.ScalarAsync<string>("SELECT id FROM users WHERE username = 'alice';");
        Assert.True(await CountAsync(app, aliceId) > 0);

        var deleted = await DeleteAsync(app, token, TestData.StrongPassword);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, await CountAsync(app, aliceId));
        Assert.Equal(HttpStatusCode.Unauthorized, (await MeAsync(app, token)).StatusCode);
        await (await DeleteAsync(app, token, TestData.StrongPassword)).ProblemAsync(401, "unauthorized");
        // Bob's rows are untouched.
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, bobToken)).StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM login_failures WHERE login_key = 'BOB';"));

        // The username and the address are free at once: a new account, a new activation mail.
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("alice", "alice@example.com")).StatusCode);
        var activation = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(activation.Link))).StatusAsync());
        Assert.NotEqual(aliceId, await app.ScalarAsync<string>("SELECT id FROM users WHERE username = 'alice';"));
    }

    [Fact]
    public async Task A_wrong_or_missing_password_erases_nothing_and_wrong_ones_count_as_failed_sign_ins()
    {
        await using var app = TestApp.StartWithSmtp(out _, new Dictionary<string, string?> { ["Login:MaxFailures"] = "2" });
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");

        var missing = await (await DeleteAsync(app, token, "")).ProblemAsync(400, "validation_failed");
        Assert.True(missing.GetProperty("errors").TryGetProperty("password", out _));
        await (await DeleteAsync(app, token, "not the password")).ProblemAsync(403, "wrong_password");
        await (await DeleteAsync(app, token, "not the password")).ProblemAsync(403, "wrong_password");
        var locked = await DeleteAsync(app, token, TestData.StrongPassword);
        await locked.ProblemAsync(429, "too_many_attempts");
        Assert.NotNull(locked.Headers.RetryAfter);
        using var anonymous = new HttpRequestMessage(HttpMethod.Post, "/me/delete") { Content = JsonContent.Create(new { password = TestData.StrongPassword }) };
        await (await app.Client.SendAsync(anonymous)).ProblemAsync(401, "unauthorized");

        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task A_token_from_before_a_password_change_cannot_delete_the_account()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        var (earlier, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        var current = await app.BearerTokenAsync("alice");
        using (var change = new HttpRequestMessage(HttpMethod.Post, "/me/password")
        {
            Content = JsonContent.Create(new { currentPassword = TestData.StrongPassword, password = "a new horse battery staple", confirmPassword = "a new horse battery staple" }),
        })
        {
            change.Headers.Authorization = new AuthenticationHeaderValue("Bearer", current);
            Assert.Equal(HttpStatusCode.NoContent, (await app.Client.SendAsync(change)).StatusCode);
        }

        await (await DeleteAsync(app, earlier, "a new horse battery staple")).ProblemAsync(401, "unauthorized");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    /// <summary>Rows anywhere that belong to the account or carry its username or address.</summary>
    private static async Task<long> CountAsync(TestApp app, string id) =>
        await app.ScalarAsync<long>(
            """
            SELECT (SELECT COUNT(*) FROM users WHERE id = @id)
                 + (SELECT COUNT(*) FROM account_tokens WHERE user_id = @id)
                 + (SELECT COUNT(*) FROM outbox WHERE user_id = @id OR recipients LIKE '%alice@%')
                 + (SELECT COUNT(*) FROM login_failures WHERE login_key IN ('ALICE', 'ALICE@EXAMPLE.COM'))
                 + (SELECT COUNT(*) FROM code_failures WHERE email_key = 'ALICE@EXAMPLE.COM');
            """,
            new { id });

    private static Task<HttpResponseMessage> DeleteAsync(TestApp app, string token, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/me/delete") { Content = JsonContent.Create(new { password }) };
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
