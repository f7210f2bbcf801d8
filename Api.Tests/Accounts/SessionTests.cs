using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Diagnostics.Metrics;
using Accounts.Api.Accounts;
using Accounts.Api.Housekeeping;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Accounts;

/// <summary>
/// Sessions over HTTP (the design's "Sessions"): rotating refresh tokens with reuse detection,
/// logout, logout everywhere, what else ends a session, and cookie mode. On SQLite here, on
/// PostgreSQL in Api.Tests.Postgres; the cookie mode in a real browser is in Browser/SessionCookieBrowserTests.
/// </summary>
public sealed class SessionTests
{
    private const string NewPassword = "a brand new horse battery staple";

    [Fact]
    public async Task The_whole_story_sign_in_refresh_twice_then_the_first_refresh_token_again_revokes_the_session()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out _, time: time);
        using var refreshes = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), Sessions.MeterName, "accounts.sessions.refreshes");
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var first = await SignInAsync(app, "alice");
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, first.AccessToken)).StatusCode);

        time.Advance(TimeSpan.FromMinutes(50));
        var second = await RefreshedAsync(app, first.RefreshToken);
        time.Advance(TimeSpan.FromMinutes(50));
        var third = await RefreshedAsync(app, second.RefreshToken);
        Assert.Equal(3, new[] { first.RefreshToken, second.RefreshToken, third.RefreshToken }.Distinct().Count());
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, third.AccessToken)).StatusCode);

        // The first token, retired 100 minutes ago, again: someone else holds a copy.
        await (await RefreshAsync(app, first.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");

        // The session is gone: its newest tokens, access and refresh, no longer work either.
        await (await MeAsync(app, third.AccessToken)).ProblemAsync(401, "unauthorized");
        await (await RefreshAsync(app, third.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        Assert.Equal(["rotated", "rotated", "reused", "unknown"], refreshes.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));

        // What is left is the session SignedInAccountAsync started, with its one token.
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM refresh_tokens;"));
    }

    [Fact]
    public async Task Refresh_tokens_are_stored_only_as_hashes_and_answer_with_the_contract_s_members()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");

        var response = await app.LoginAsync("alice", TestData.StrongPassword);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(["accessToken", "expiresIn", "refreshToken", "tokenType"], body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("Bearer", body.GetProperty("tokenType").GetString());
        Assert.Equal(3600, body.GetProperty("expiresIn").GetInt64());
        var refresh = body.GetProperty("refreshToken").GetString()!;
        Assert.Equal(43, refresh.Length); // 256 bits, base64url
        var stored = await app.QueryAsync<byte[]>("SELECT token_hash FROM refresh_tokens;");
        Assert.Equal(2, stored.Count); // this sign-in's and SignedInAccountAsync's
        Assert.Contains(System.Security.Cryptography.SHA256.HashData(Convert.FromBase64String(refresh.Replace('-', '+').Replace('_', '/') + "=")), stored);
        Assert.DoesNotContain(stored, hash => System.Text.Encoding.ASCII.GetString(hash).Contains(refresh, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refreshes_racing_with_one_token_one_wins_and_the_session_survives_the_other()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var signedIn = await SignInAsync(app, "alice");

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => RefreshAsync(app, signedIn.RefreshToken)));

        var won = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        foreach (var lost in answers.Where(a => a != won))
        {
            await lost.ProblemAsync(401, "invalid_refresh_token");
        }

        var next = await TokensOf(won);
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, next.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(app, next.RefreshToken)).StatusCode);

        // A retry within the grace is the same race, not a theft: still one session.
        await (await RefreshAsync(app, signedIn.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
    }

    [Fact]
    public async Task Logout_ends_this_session_at_once_and_leaves_the_others()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var phone = await SignInAsync(app, "alice");
        var laptop = await SignInAsync(app, "alice");

        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/logout", phone.AccessToken)).StatusCode);

        await (await MeAsync(app, phone.AccessToken)).ProblemAsync(401, "unauthorized");
        await (await RefreshAsync(app, phone.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        await (await PostAsync(app, "/logout", phone.AccessToken)).ProblemAsync(401, "unauthorized");
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, laptop.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(app, laptop.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task Logout_with_a_refresh_token_in_the_body_ends_that_session_too_but_only_the_account_s_own()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.SignedInAccountAsync("bob", "bob@example.com");
        var alice = await SignInAsync(app, "alice");
        var alicesOther = await SignInAsync(app, "alice");
        var bob = await SignInAsync(app, "bob");

        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/logout", alice.AccessToken, new { refreshToken = alicesOther.RefreshToken })).StatusCode);
        await (await RefreshAsync(app, alicesOther.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");

        var alicesThird = await SignInAsync(app, "alice");
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/logout", alicesThird.AccessToken, new { refreshToken = bob.RefreshToken })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(app, bob.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task Logout_all_ends_every_session_of_the_account_and_no_other_account_s()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.SignedInAccountAsync("bob", "bob@example.com");
        var phone = await SignInAsync(app, "alice");
        var laptop = await SignInAsync(app, "alice");
        var bob = await SignInAsync(app, "bob");

        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/logout/all", laptop.AccessToken)).StatusCode);

        foreach (var session in new[] { phone, laptop })
        {
            await (await MeAsync(app, session.AccessToken)).ProblemAsync(401, "unauthorized");
            await (await RefreshAsync(app, session.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        }

        Assert.Equal(0, await app.ScalarAsync<long>(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'alice';"));
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, bob.AccessToken)).StatusCode);
        await (await PostAsync(app, "/logout/all", phone.AccessToken)).ProblemAsync(401, "unauthorized");
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(app, (await SignInAsync(app, "alice")).AccessToken)).StatusCode);
    }

    [Fact]
    public async Task A_password_change_a_password_reset_and_an_erasure_each_end_every_session()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var before = await SignInAsync(app, "alice");
        var changed = await PostAsync(app, "/me/password", before.AccessToken,
            new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        await (await RefreshAsync(app, before.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        await smtp.WaitForMailAsync("alice@example.com"); // the notice

        var beforeReset = await SignInAsync(app, "alice", NewPassword);
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" })).StatusCode);
        var reset = await smtp.WaitForMailAsync("alice@example.com");
        var resetAnswer = await app.Client.PostAsJsonAsync("/password/reset",
            new { token = reset.Token, password = TestData.StrongPassword, confirmPassword = TestData.StrongPassword });
        Assert.Equal(HttpStatusCode.NoContent, resetAnswer.StatusCode);
        await (await MeAsync(app, beforeReset.AccessToken)).ProblemAsync(401, "unauthorized");
        await (await RefreshAsync(app, beforeReset.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");

        var beforeErasure = await SignInAsync(app, "alice");
        await SignInAsync(app, "alice");
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/me/delete", beforeErasure.AccessToken, new { password = TestData.StrongPassword })).StatusCode);
        await (await RefreshAsync(app, beforeErasure.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM refresh_tokens;"));
    }

    [Fact]
    public async Task A_sign_in_that_checked_the_password_before_a_change_committed_gets_no_session()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var id = Guid.Parse(await app.ScalarAsync<string>("SELECT id FROM users;"));
        var stamp = await app.ScalarAsync<string>("SELECT security_stamp FROM users;");
        var before = await SignInAsync(app, "alice");
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(app, "/me/password", before.AccessToken,
            new { currentPassword = TestData.StrongPassword, password = NewPassword, confirmPassword = NewPassword })).StatusCode);

        // What a sign-in holds when the change commits between its password check and its session:
        // the account as it read it, with the old stamp.
        var read = new User { Id = id, Username = "alice", Status = AccountStatus.Active, SecurityStamp = stamp };
        var tokens = await app.Services.GetRequiredService<Sessions>().StartAsync(read, CancellationToken.None);

        Assert.Null(tokens);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
    }

    [Fact]
    public async Task Answers_that_carry_tokens_may_not_be_cached()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");

        var login = await app.LoginAsync("alice", TestData.StrongPassword);
        var refreshed = await RefreshAsync(app, (await TokensOf(login)).RefreshToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.True(login.Headers.CacheControl?.NoStore, "POST /login: Cache-Control: no-store");
        Assert.True(refreshed.Headers.CacheControl?.NoStore, "POST /token/refresh: Cache-Control: no-store");
    }

    [Fact]
    public async Task A_refresh_token_unused_for_its_lifetime_is_refused_and_housekeeping_removes_expired_sessions()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out _, new Dictionary<string, string?> { ["Housekeeping:Interval"] = "01:00:00" }, time);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        var idle = await SignInAsync(app, "alice");
        var kept = await SignInAsync(app, "alice");

        // Day 13: the kept session refreshes and lives 14 days from now; its retired token stays, to be known if reused.
        time.Advance(TimeSpan.FromDays(13));
        var refreshed = await RefreshedAsync(app, kept.RefreshToken);
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await (await RefreshAsync(app, idle.RefreshToken)).ProblemAsync(401, "invalid_refresh_token");

        var housekeeper = app.Services.GetRequiredService<Housekeeper>();
        var now = time.GetUtcNow();
        time.Advance(TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => Task.FromResult(housekeeper.LastRunTime > now), "a housekeeping run", TimeSpan.FromSeconds(20));

        // Left: the refreshed session and its newest token; the idle session (and SignedInAccountAsync's) and every expired token are gone.
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM sessions;"));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM refresh_tokens;"));
        Assert.Equal(HttpStatusCode.OK, (await RefreshAsync(app, refreshed.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task A_refresh_without_a_token_is_400_naming_the_field_and_a_malformed_one_401()
    {
        await using var app = TestApp.StartWithSmtp(out _);

        var missing = await app.Client.PostAsJsonAsync("/token/refresh", new { });
        Assert.Equal(["refreshToken"], (await missing.ProblemAsync(400, "validation_failed")).ErrorFields());
        await (await RefreshAsync(app, "not a token")).ProblemAsync(401, "invalid_refresh_token");
        await (await RefreshAsync(app, new string('A', 43))).ProblemAsync(401, "invalid_refresh_token");
        await (await PostAsync(app, "/logout", accessToken: null)).ProblemAsync(401, "unauthorized");
        await (await PostAsync(app, "/logout/all", accessToken: null)).ProblemAsync(401, "unauthorized");
    }

    [Fact]
    public async Task Cookie_mode_keeps_the_session_in_HttpOnly_SameSite_Strict_Secure_cookies_and_asks_X_CSRF_of_state_changes()
    {
        await using var app = TestApp.StartWithSmtp(out _);
        await app.SignedInAccountAsync("alice", "alice@example.com");

        var login = await app.Client.PostAsJsonAsync("/login?useCookies=true", new { login = "alice", password = TestData.StrongPassword });

        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        var cookies = SetCookies(login);
        var access = cookies["accounts_session"];
        var refresh = cookies["accounts_refresh"];
        foreach (var cookie in new[] { access, refresh })
        {
            Assert.Contains("httponly", cookie.Attributes);
            Assert.Contains("samesite=strict", cookie.Attributes);
            Assert.Contains("secure", cookie.Attributes); // outside Development
        }

        Assert.Contains("path=/", access.Attributes);
        Assert.Contains("path=/token/refresh", refresh.Attributes);
        Assert.Contains("max-age=3600", access.Attributes);
        Assert.Contains("max-age=1209600", refresh.Attributes);

        // Reads need no header; a state change signed in by the cookie does.
        Assert.Equal(HttpStatusCode.OK, (await WithCookiesAsync(app, HttpMethod.Get, "/me", access.Value)).StatusCode);
        await (await WithCookiesAsync(app, HttpMethod.Post, "/logout/all", access.Value)).ProblemAsync(403, "csrf_header_required");
        await (await WithCookiesAsync(app, HttpMethod.Post, "/token/refresh", access.Value, refresh.Value)).ProblemAsync(403, "csrf_header_required");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM refresh_tokens WHERE retired_at IS NOT NULL;"));

        // A refresh by cookie: 204 and new cookies; the old refresh cookie is retired.
        var refreshed = await WithCookiesAsync(app, HttpMethod.Post, "/token/refresh", access.Value, refresh.Value, csrf: true);
        Assert.Equal(HttpStatusCode.NoContent, refreshed.StatusCode);
        var next = SetCookies(refreshed);
        Assert.NotEqual(refresh.Value, next["accounts_refresh"].Value);
        Assert.Equal(HttpStatusCode.OK, (await WithCookiesAsync(app, HttpMethod.Get, "/me", next["accounts_session"].Value)).StatusCode);

        // A bearer token sent explicitly wins over the cookie, and needs no header.
        var bearer = await SignInAsync(app, "alice");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/logout") { Content = JsonContent.Create(new { }) })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer.AccessToken);
            request.Headers.Add("Cookie", $"accounts_session={next["accounts_session"].Value}");
            Assert.Equal(HttpStatusCode.NoContent, (await app.Client.SendAsync(request)).StatusCode);
        }

        // Logout by cookie, with the header: 204, both cookies cleared, the session ended.
        var logout = await WithCookiesAsync(app, HttpMethod.Post, "/logout", next["accounts_session"].Value, csrf: true);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        var cleared = SetCookies(logout);
        Assert.Equal("", cleared["accounts_session"].Value);
        Assert.Equal("", cleared["accounts_refresh"].Value);
        Assert.Contains("path=/token/refresh", cleared["accounts_refresh"].Attributes);
        await (await WithCookiesAsync(app, HttpMethod.Get, "/me", next["accounts_session"].Value)).ProblemAsync(401, "unauthorized");
        var refused = await WithCookiesAsync(app, HttpMethod.Post, "/token/refresh", null, next["accounts_refresh"].Value, csrf: true);
        await refused.ProblemAsync(401, "invalid_refresh_token");
        Assert.Equal("", SetCookies(refused)["accounts_refresh"].Value);
    }

    [Fact]
    public async Task In_Development_the_cookies_are_not_Secure_so_the_demo_works_over_plain_http_on_localhost()
    {
        await using var app = TestApp.Start(new TestSmtpServer(), environment: "Development");
        await app.SignedInAccountAsync("alice", "alice@example.com");

        var login = await app.Client.PostAsJsonAsync("/login?useCookies=true", new { login = "alice", password = TestData.StrongPassword });

        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        Assert.All(SetCookies(login).Values, cookie => Assert.DoesNotContain("secure", cookie.Attributes));
    }

    internal sealed record Tokens(string AccessToken, string RefreshToken);

    internal sealed record Cookie(string Value, string[] Attributes);

    internal static async Task<Tokens> SignInAsync(TestApp app, string login, string password = TestData.StrongPassword)
    {
        var response = await app.LoginAsync(login, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TokensOf(response);
    }

    private static async Task<Tokens> TokensOf(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new Tokens(body.GetProperty("accessToken").GetString()!, body.GetProperty("refreshToken").GetString()!);
    }

    private static Task<HttpResponseMessage> RefreshAsync(TestApp app, string refreshToken) =>
        app.Client.PostAsJsonAsync("/token/refresh", new { refreshToken });

    private static async Task<Tokens> RefreshedAsync(TestApp app, string refreshToken)
    {
        var response = await RefreshAsync(app, refreshToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TokensOf(response);
    }

    private static Task<HttpResponseMessage> MeAsync(TestApp app, string accessToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return app.Client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PostAsync(TestApp app, string path, string? accessToken, object? body = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return app.Client.SendAsync(request);
    }

    /// <summary>A request carrying the session cookies as a browser would (the test client keeps no cookie jar).</summary>
    private static Task<HttpResponseMessage> WithCookiesAsync(TestApp app, HttpMethod method, string path, string? access, string? refresh = null, bool csrf = false)
    {
        var request = new HttpRequestMessage(method, path);
        var cookies = new[] { access is null ? null : $"accounts_session={access}", refresh is null ? null : $"accounts_refresh={refresh}" }.OfType<string>();
        request.Headers.Add("Cookie", string.Join("; ", cookies));
        if (csrf)
        {
            request.Headers.Add("X-CSRF", "1");
        }

        return app.Client.SendAsync(request);
    }

    /// <summary>The response's Set-Cookie headers by name: the value and the attributes, lower-cased.</summary>
    private static Dictionary<string, Cookie> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => v.Split(';', StringSplitOptions.TrimEntries)).ToDictionary(
                parts => parts[0].Split('=', 2)[0],
                parts => new Cookie(parts[0].Split('=', 2)[1], [.. parts.Skip(1).Select(a => a.ToLowerInvariant())]))
            : [];
}
