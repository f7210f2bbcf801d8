using System.Net;
using System.Net.Http.Json;
using System.Text;
using Accounts.Api.Accounts;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Hardening;

public sealed class AbuseTests
{
    private static readonly Dictionary<string, string?> TightLimits = new()
    {
        ["RateLimiting:Enabled"] = "true",
        ["RateLimiting:Register"] = "2",
        ["RateLimiting:Resend"] = "2",
        ["RateLimiting:ForgotPassword"] = "2",
        ["RateLimiting:Login"] = "2",
    };

    [Theory]
    [InlineData("/activation/resend")]
    [InlineData("/password/forgot")]
    public async Task Past_its_limit_an_endpoint_answers_429_problem_with_Retry_After(string path)
    {
        await using var app = TestApp.Start(smtp: null, TightLimits);

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync(path, new { email = $"x{i}@example.com" })).StatusCode);
        }

        var rejected = await app.Client.PostAsJsonAsync(path, new { email = "x@example.com" });

        await rejected.ProblemAsync(429, "rate_limited");
        Assert.True(int.Parse(rejected.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Register_and_login_are_limited_separately()
    {
        await using var app = TestApp.Start(smtp: null, TightLimits);

        await app.RegisterAsync("alice", "alice@example.com");
        await app.RegisterAsync("bob", "bob@example.com");
        await (await app.RegisterAsync("carol", "carol@example.com")).ProblemAsync(429, "rate_limited");

        await (await app.Client.PostAsJsonAsync("/login", new { login = "alice", password = "wrong password entirely" })).ProblemAsync(401, "invalid_credentials");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE username = 'carol';"));
    }

    [Fact]
    public async Task Forwarded_client_addresses_count_only_from_a_known_proxy()
    {
        await using var trusting = TestApp.Start(smtp: null, new Dictionary<string, string?>(TightLimits) { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        await using var untrusting = TestApp.Start(smtp: null, TightLimits);

        var fromTrusting = new List<HttpStatusCode>();
        var fromUntrusting = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            fromTrusting.Add((await SendFromAsync(trusting, $"203.0.113.{i}")).StatusCode);
            fromUntrusting.Add((await SendFromAsync(untrusting, $"203.0.113.{i}")).StatusCode);
        }

        Assert.All(fromTrusting, s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], fromUntrusting);

        static Task<HttpResponseMessage> SendFromAsync(TestApp app, string address)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/password/forgot") { Content = JsonContent.Create(new { email = "x@example.com" }) };
            request.Headers.Add("X-Forwarded-For", address);
            return app.Client.SendAsync(request);
        }
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_lock_the_login_for_a_while_then_it_works_again()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Login:MaxFailures"] = "3" }, time);
        await app.RegisterAsync("alice", "alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf((await smtp.WaitForMailAsync("alice@example.com")).Link));

        for (var i = 0; i < 3; i++)
        {
            await (await app.LoginAsync("alice", "wrong password entirely")).ProblemAsync(401, "invalid_credentials");
        }

        var locked = await app.LoginAsync("alice", TestData.StrongPassword);
        await locked.ProblemAsync(429, "too_many_attempts");
        Assert.Equal("60", locked.Headers.GetValues("Retry-After").Single());

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", TestData.StrongPassword)).StatusCode);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM login_failures;"));
    }

    [Fact]
    public async Task An_unknown_login_is_locked_exactly_like_a_known_one()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Login:MaxFailures"] = "2" });
        await app.RegisterAsync("alice", "alice@example.com");

        foreach (var login in new[] { "alice", "nobody" })
        {
            await (await app.LoginAsync(login, "wrong password entirely")).ProblemAsync(401, "invalid_credentials");
            await (await app.LoginAsync(login, "wrong password entirely")).ProblemAsync(401, "invalid_credentials");
            await (await app.LoginAsync(login, "wrong password entirely")).ProblemAsync(429, "too_many_attempts");
        }
    }

    [Fact]
    public void Lockouts_double_but_never_exceed_the_maximum()
    {
        var options = new LoginOptions { MaxFailures = 5, Lockout = TimeSpan.FromMinutes(1), MaxLockout = TimeSpan.FromMinutes(15) };

        Assert.Equal(TimeSpan.FromMinutes(1), LoginThrottle.LockFor(5, options));
        Assert.Equal(TimeSpan.FromMinutes(2), LoginThrottle.LockFor(6, options));
        Assert.Equal(TimeSpan.FromMinutes(8), LoginThrottle.LockFor(8, options));
        Assert.Equal(TimeSpan.FromMinutes(15), LoginThrottle.LockFor(9, options));
        Assert.Equal(TimeSpan.FromMinutes(15), LoginThrottle.LockFor(10_000, options));
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_413_problem_and_changes_nothing()
    {
        await using var app = TestApp.Start(smtp: null);
        var big = $$"""{"username":"alice","email":"alice@example.com","password":"{{new string('x', 70_000)}}"}""";

        var request = new HttpRequestMessage(HttpMethod.Post, "/register") { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true; // read the 413 rather than race the server closing the connection mid-body

        var response = await app.Client.SendAsync(request);

        await response.ProblemAsync(413, "payload_too_large");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task Every_response_says_nosniff_and_html_pages_refuse_framing()
    {
        await using var app = TestApp.Start(smtp: null);

        var json = await app.Client.GetAsync("/health/live");
        var problem = await app.Client.GetAsync("/nowhere");
        var swagger = await app.Client.GetAsync("/swagger/index.html");

        foreach (var response in new[] { json, problem, swagger })
        {
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }

        Assert.Contains("frame-ancestors 'none'", swagger.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-referrer", swagger.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Production_sends_HSTS_on_https_through_a_known_proxy()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?>
        {
            ["Email:Transport"] = "Smtp",
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        }, environment: "Production");
        var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Host = "accounts.example.test";
        request.Headers.Add("X-Forwarded-Proto", "https");

        var response = await app.Client.SendAsync(request);

        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Theory]
    [InlineData("Pickup")]
    [InlineData("Log")]
    public async Task Production_refuses_a_transport_that_delivers_nothing_unless_told(string transport)
    {
        var refused = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?>
        {
            ["Email:Transport"] = transport,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        });
        Assert.Contains("Email:Transport", refused);

        using var folder = new TemporaryDatabase("accounts-production-");
        var directory = folder.Directory;
        var settings = TestSettings.Defaults(directory, smtpPort: 25);
        settings["Email:Transport"] = transport;
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        settings["Email:AllowDevelopmentTransport"] = "true";
        await using var allowed = await ApiProcess.StartServerAsync(directory, settings);
        using var client = new HttpClient { BaseAddress = allowed.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }
}
