using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Accounts;

/// <summary>Resend, login, profile and password reset, as a person meets them: over HTTP, with real mail.</summary>
public sealed class LifecycleTests
{
    private const string NewPassword = "a brand new horse battery staple";

    [Fact]
    public async Task Resend_within_the_cooldown_sends_nothing_and_after_it_a_fresh_link_that_ends_the_earlier_one()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        await app.RegisterAsync("alice", "alice@example.com");
        var first = await smtp.WaitForMailAsync("alice@example.com");

        var early = await app.ResendActivationAsync("alice@example.com");
        Assert.Equal(HttpStatusCode.Accepted, early.StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Accepted, (await app.ResendActivationAsync("ALICE@example.com")).StatusCode);
        var second = await smtp.WaitForMailAsync("alice@example.com");

        Assert.NotEqual(first.Token, second.Token);
        await (await app.Client.GetAsync(TestApp.PathOf(first.Link))).ProblemAsync(410, "token_expired");
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(second.Link))).StatusAsync());
    }

    [Fact]
    public async Task The_resend_cooldown_is_kept_in_the_database_across_a_restart()
    {
        await using var first = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Activation:ResendCooldown"] = "00:10:00" });
        await first.RegisterAsync("alice", "alice@example.com");
        await first.StopAsync();

        await using var second = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Activation:ResendCooldown"] = "00:10:00" }, directory: first.Directory);
        Assert.Equal(HttpStatusCode.Accepted, (await second.ResendActivationAsync("alice@example.com")).StatusCode);

        Assert.Equal(1, await second.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
    }

    [Fact]
    public async Task Resend_and_forgot_answer_an_unknown_address_exactly_as_a_known_one()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Email:Transport"] = "Log" });
        await app.RegisterAsync("alice", "alice@example.com");

        foreach (var path in new[] { "/activation/resend", "/password/forgot" })
        {
            var known = await app.Client.PostAsJsonAsync(path, new { email = "alice@example.com" });
            var unknown = await app.Client.PostAsJsonAsync(path, new { email = "nobody@example.com" });

            Assert.Equal(HttpStatusCode.Accepted, known.StatusCode);
            Assert.Equal(known.StatusCode, unknown.StatusCode);
            Assert.Equal(await known.Content.ReadAsStringAsync(), await unknown.Content.ReadAsStringAsync());
            Assert.Equal(HeaderNames(known), HeaderNames(unknown));
        }
    }

    [Fact]
    public async Task Resend_and_forgot_reject_a_malformed_address_with_a_400_naming_it()
    {
        await using var app = TestApp.Start(smtp: null);

        foreach (var path in new[] { "/activation/resend", "/password/forgot" })
        {
            var problem = await (await app.Client.PostAsJsonAsync(path, new { email = "not an address" })).ProblemAsync(400, "validation_failed");
            Assert.Equal(["email"], problem.ErrorFields());
        }
    }

    [Fact]
    public async Task Login_is_refused_before_activation_and_works_after_it_and_the_profile_follows()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com", birthday: "1990-05-17");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        await (await app.LoginAsync("alice", TestData.StrongPassword)).ProblemAsync(403, "account_not_activated");
        await (await app.LoginAsync("alice", "wrong password entirely")).ProblemAsync(401, "invalid_credentials");

        await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        var login = await app.LoginAsync("ALICE@EXAMPLE.COM", TestData.StrongPassword);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Bearer", token.GetProperty("tokenType").GetString());
        Assert.Equal(3600, token.GetProperty("expiresIn").GetInt64());

        var me = await MeAsync(app, token.GetProperty("accessToken").GetString()!);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var profile = await me.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("alice", profile.GetProperty("username").GetString());
        Assert.Equal("alice@example.com", profile.GetProperty("email").GetString());
        Assert.Equal("1990-05-17", profile.GetProperty("birthday").GetString());
        Assert.Equal("active", profile.GetProperty("status").GetString());
        Assert.Equal(await app.ScalarAsync<string>("SELECT id FROM users;"), profile.GetProperty("id").GetString());
        Assert.NotEqual(JsonValueKind.Null, profile.GetProperty("createdAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, profile.GetProperty("activatedAt").ValueKind);
    }

    [Fact]
    public async Task An_unknown_login_and_a_wrong_password_get_the_same_401()
    {
        await using var app = TestApp.Start(smtp: null);
        await app.RegisterAsync("alice", "alice@example.com");

        var unknown = await (await app.LoginAsync("nobody", TestData.StrongPassword)).ProblemAsync(401, "invalid_credentials");
        var wrong = await (await app.LoginAsync("alice", "wrong password entirely")).ProblemAsync(401, "invalid_credentials");

        Assert.Equal(unknown.GetProperty("title").GetString(), wrong.GetProperty("title").GetString());
    }

    [Fact]
    public async Task The_profile_needs_a_valid_bearer_token()
    {
        await using var app = TestApp.Start(smtp: null);

        await (await app.Client.GetAsync("/me")).ProblemAsync(401, "unauthorized");
        await (await MeAsync(app, "not-a-token")).ProblemAsync(401, "unauthorized");
    }

    [Fact]
    public async Task A_bearer_token_stops_working_when_it_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        var token = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        await (await MeAsync(app, token)).ProblemAsync(401, "unauthorized");
    }

    [Fact]
    public async Task A_hash_stored_at_a_lower_cost_is_rehashed_at_login()
    {
        await using var first = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Passwords:Iterations"] = "1000" });
        await first.SignedInAccountAsync("alice", "alice@example.com");
        await first.StopAsync();

        await using var second = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Passwords:Iterations"] = "2000" }, directory: first.Directory);
        Assert.Equal(1000u, await IterationsAsync(second));

        Assert.Equal(HttpStatusCode.OK, (await second.LoginAsync("alice", TestData.StrongPassword)).StatusCode);

        Assert.Equal(2000u, await IterationsAsync(second));
        Assert.Equal(HttpStatusCode.OK, (await second.LoginAsync("alice", TestData.StrongPassword)).StatusCode);
    }

    [Fact]
    public async Task Password_reset_end_to_end_ends_earlier_sessions_and_the_link_works_once()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var oldToken = (await app.SignedInAccountAsync("alice", "alice@example.com")).Token;

        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" })).StatusCode);
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("Reset your Accounts password", mail.Subject);
        Assert.Equal($"{TestApp.PublicBaseUrl}/password/reset", mail.Link.GetLeftPart(UriPartial.Path));

        var form = await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Equal("text/html", form.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-referrer", form.Headers.GetValues("Referrer-Policy").Single());

        var reset = await app.Client.PostAsJsonAsync("/password/reset", new { token = mail.Token, password = NewPassword, confirmPassword = NewPassword });
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);

        await (await MeAsync(app, oldToken)).ProblemAsync(401, "unauthorized");
        await (await app.LoginAsync("alice", TestData.StrongPassword)).ProblemAsync(401, "invalid_credentials");
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", NewPassword)).StatusCode);
        var again = await app.Client.PostAsJsonAsync("/password/reset", new { token = mail.Token, password = "yet another horse battery", confirmPassword = "yet another horse battery" });
        await again.ProblemAsync(410, "token_expired");
    }

    [Fact]
    public async Task A_reset_with_a_weak_password_is_a_400_and_leaves_the_link_usable()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        var weak = await app.Client.PostAsJsonAsync("/password/reset", new { token = mail.Token, password = "alice123", confirmPassword = "alice123" });
        Assert.Equal(["password"], (await weak.ProblemAsync(400, "validation_failed")).ErrorFields());

        var strong = await app.Client.PostAsJsonAsync("/password/reset", new { token = mail.Token, password = NewPassword, confirmPassword = NewPassword });
        Assert.Equal(HttpStatusCode.NoContent, strong.StatusCode);
    }

    [Fact]
    public async Task A_reset_link_expires_after_an_hour_and_a_newer_one_ends_the_older()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, time: time);
        await app.SignedInAccountAsync("alice", "alice@example.com");
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var first = await smtp.WaitForMailAsync("alice@example.com");
        time.Advance(TimeSpan.FromMinutes(2));
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var second = await smtp.WaitForMailAsync("alice@example.com");

        var superseded = await app.Client.PostAsJsonAsync("/password/reset", new { token = first.Token, password = NewPassword, confirmPassword = NewPassword });
        await superseded.ProblemAsync(410, "token_expired");

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var expired = await app.Client.PostAsJsonAsync("/password/reset", new { token = second.Token, password = NewPassword, confirmPassword = NewPassword });
        await expired.ProblemAsync(410, "token_expired");
    }

    [Fact]
    public async Task Tokens_have_one_purpose_each()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var activation = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var reset = await smtp.WaitForMailAsync("alice@example.com");

        await (await app.Client.GetAsync($"/activate?token={reset.Token}")).ProblemAsync(404, "token_not_found");
        var wrongPurpose = await app.Client.PostAsJsonAsync("/password/reset", new { token = activation.Token, password = NewPassword, confirmPassword = NewPassword });
        await wrongPurpose.ProblemAsync(404, "token_not_found");
    }

    [Fact]
    public async Task A_reset_link_can_point_to_the_SPA_page()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["PasswordReset:LinkUrl"] = "https://app.example.test/reset" });
        await app.RegisterAsync("alice", "alice@example.com");
        await smtp.WaitForMailAsync("alice@example.com");

        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        Assert.Equal("https://app.example.test/reset", mail.Link.GetLeftPart(UriPartial.Path));
    }

    private static Task<HttpResponseMessage> MeAsync(TestApp app, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return app.Client.SendAsync(request);
    }

    private static async Task<uint> IterationsAsync(TestApp app) =>
        BinaryPrimitives.ReadUInt32BigEndian(Convert.FromBase64String(await app.ScalarAsync<string>("SELECT password_hash FROM users;")).AsSpan(5));

    private static string[] HeaderNames(HttpResponseMessage response) =>
        [.. response.Headers.Concat(response.Content.Headers).Select(h => h.Key).Order()];
}
