using System.Net;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>The CORS headers the API answers with; the browser's side of it is in <c>Browser/CorsBrowserTests</c>.</summary>
public sealed class CorsTests
{
    private const string Spa = "http://localhost:5173";

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_may_post_JSON_with_a_bearer_token_or_with_the_session_cookie_and_X_CSRF()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = Spa });

        var response = await app.Client.SendAsync(Preflight("/register", Spa, "POST", "content-type,authorization,x-csrf"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Spa, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var headers = response.Headers.GetValues("Access-Control-Allow-Headers").Single();
        Assert.Contains("Content-Type", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Authorization", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-CSRF", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        // A listed origin (of the same site, for the SameSite=Strict cookies to go along) may use cookie mode.
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
    }

    [Fact]
    public async Task An_actual_request_from_an_allowed_origin_gets_its_origin_back_even_on_a_problem()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = Spa });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/register") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", Spa);

        var response = await app.Client.SendAsync(request);

        await response.ProblemAsync(400, "validation_failed");
        Assert.Equal(Spa, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://localhost:3000")]
    public async Task Other_origins_get_no_CORS_headers(string? allowed)
    {
        var settings = allowed is null ? null : new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = allowed };
        await using var app = TestApp.Start(smtp: null, settings);

        var response = await app.Client.SendAsync(Preflight("/register", Spa, "POST", "content-type"));

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("http://localhost:5173/")]
    [InlineData("http://localhost:5173/app")]
    [InlineData("*")]
    [InlineData("localhost:5173")]
    public async Task An_allowed_origin_that_is_not_an_origin_stops_the_app_naming_the_key(string origin)
    {
        var output = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = origin });

        Assert.Contains("Cors:AllowedOrigins:0", output);
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }
}
