using System.Net;
using Accounts.Api.Demo;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Demo;

/// <summary>How the API serves the demo's files: only when on, and with the headers every HTML page gets.</summary>
public sealed class DemoSiteTests
{
    [Fact]
    public async Task The_demo_is_off_unless_Demo_Enabled_is_true_outside_Development()
    {
        await using var app = TestApp.Start(smtp: null);

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/demo/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/demo/app.js")).StatusCode);
    }

    [Fact]
    public async Task The_demo_pages_come_with_nosniff_a_strict_CSP_and_no_referrer()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { [DemoSite.EnabledKey] = "true" });

        foreach (var path in new[] { "/demo/", "/demo/activated.html", "/demo/login.html", "/demo/app.js", "/demo/style.css" })
        {
            var response = await app.Client.GetAsync(path);

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("script-src 'self'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
        }

        var index = await app.Client.GetStringAsync("/demo/");
        Assert.Contains("<script src=\"app.js\" defer></script>", index);
        Assert.DoesNotContain("<script>", index);
    }

    [Fact]
    public async Task Demo_without_a_trailing_slash_redirects_to_the_folder()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { [DemoSite.EnabledKey] = "true" });
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };

        var response = await client.GetAsync("/demo");

        Assert.Equal("/demo/", response.Headers.Location?.AbsolutePath);
    }
}
