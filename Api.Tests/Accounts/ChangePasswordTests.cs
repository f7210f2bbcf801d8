using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

/// <summary><c>POST /me/password</c> over HTTP, with real mail: on SQLite here, on PostgreSQL in Api.Tests.Postgres.</summary>
public sealed class ChangePasswordTests
{
    private const string NewPassword = "a brand new horse battery staple";

    [Fact]
    public async Task A_change_ends_every_earlier_token_signs_in_with_the_new_password_only_and_mails_a_notice()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (first, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        var second = await app.BearerTokenAsync("alice");

        var changed = await ChangeAsync(app, first, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        await (await MeAsync(app, first)).ProblemAsync(401, "unauthorized");
        await (await MeAsync(app, second)).ProblemAsync(401, "unauthorized");
        await (await app.LoginAsync("alice", TestData.StrongPassword)).ProblemAsync(401, "invalid_credentials");
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, await app.BearerTokenAsync("alice", NewPassword))).StatusCode);

        var notice = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("Your password was changed", notice.Subject);
        Assert.Contains("Hello alice,", notice.TextBody, StringComparison.Ordinal);
        Assert.Contains("Forgot password", notice.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain(NewPassword, notice.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_notice_is_in_the_account_s_language()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("张伟伟", "zhang@example.com", language: "zh-CN");
        await app.Client.GetAsync(TestApp.PathOf((await smtp.WaitForMailAsync("zhang@example.com")).Link));
        var token = await app.BearerTokenAsync("张伟伟");

        var changed = await ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        var notice = await smtp.WaitForMailAsync("zhang@example.com");
        Assert.Equal("您的密码已更改", notice.Subject);
        Assert.Contains("张伟伟，您好", notice.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_current_password_is_403_wrong_password_changes_nothing_and_counts_as_a_failed_sign_in()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Login:MaxFailures"] = "3" });
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        var hash = await app.ScalarAsync<string>("SELECT password_hash FROM users;");

        for (var i = 0; i < 3; i++)
        {
            var wrong = await ChangeAsync(app, token, new { currentPassword = "not the password", password = NewPassword, confirmPassword = NewPassword });
            await wrong.ProblemAsync(403, "wrong_password");
        }

        Assert.Equal(hash, await app.ScalarAsync<string>("SELECT password_hash FROM users;"));
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, token)).StatusCode);
        // The third wrong try locked the account's sign-in, here and at /login.
        var locked = await ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword });
        await locked.ProblemAsync(429, "too_many_attempts");
        Assert.NotNull(locked.Headers.RetryAfter);
        await (await app.LoginAsync("alice", TestData.StrongPassword)).ProblemAsync(429, "too_many_attempts");
        Assert.Equal(hash, await app.ScalarAsync<string>("SELECT password_hash FROM users;"));
    }

    [Fact]
    public async Task Bad_fields_and_a_weak_new_password_are_400_naming_each_and_change_nothing()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");

        var empty = await (await ChangeAsync(app, token, new { })).ProblemAsync(400, "validation_failed");
        Assert.Equal(["confirmPassword", "currentPassword", "password"], empty.ErrorFields().Order());

        var mismatch = await (await ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = "something else" }))
            .ProblemAsync(400, "validation_failed");
        Assert.Equal(["confirmPassword"], mismatch.ErrorFields());

        var weak = await (await ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = "Password1", confirmPassword = "Password1" }))
            .ProblemAsync(400, "validation_failed");
        Assert.Equal(["password"], weak.ErrorFields());
        await (await ChangeAsync(app, token, "{\"currentPassword\": 1}")).ProblemAsync(400, "invalid_json");
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, token)).StatusCode);
    }

    [Fact]
    public async Task Without_a_valid_token_it_is_401()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var body = new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword };

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.PostAsJsonAsync("/me/password", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ChangeAsync(app, "not-a-token", body)).StatusCode);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE kind = 'password_changed';"));
    }

    [Fact]
    public async Task Of_two_changes_with_one_token_at_once_one_wins_and_the_other_is_401()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        const string other = "another fresh horse battery staple";

        var answers = await Task.WhenAll(
            ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword }),
            ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = other, confirmPassword = other }));

        Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.Unauthorized], answers.Select(a => a.StatusCode).Order());
        var winner = answers[0].StatusCode == HttpStatusCode.NoContent ? NewPassword : other;
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", winner)).StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE kind = 'password_changed';"));
    }

    [Fact]
    public async Task A_change_ends_an_outstanding_reset_link()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (token, _) = await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var reset = await smtp.WaitForMailAsync("alice@example.com");

        Assert.Equal(HttpStatusCode.NoContent, (await ChangeAsync(app, token, new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword })).StatusCode);

        var late = await app.Client.PostAsJsonAsync("/password/reset", new { token = reset.Token, password = "yet another horse battery", confirmPassword = "yet another horse battery" });
        await late.ProblemAsync(410, "token_expired");
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", NewPassword)).StatusCode);
    }

    /// <summary>Registers and activates alice; returns a bearer token and her activation mail.</summary>
    private static Task<HttpResponseMessage> ChangeAsync(TestApp app, string token, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/me/password")
        {
            Content = body is string json ? new StringContent(json, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body),
        };
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
