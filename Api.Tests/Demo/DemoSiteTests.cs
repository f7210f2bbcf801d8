using System.Net;
using Accounts.Api.Demo;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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

    [Fact]
    public async Task The_built_app_run_from_another_folder_serves_the_demo_from_its_build_output()
    {
        using var folder = new TemporaryDatabase("accounts-demo-");
        var settings = TestSettings.Defaults(folder.Directory, smtpPort: 25);
        settings[DemoSite.EnabledKey] = "true";
        // The working directory, hence the content root, is a folder without Demo/site.
        await using var api = await ApiProcess.StartServerAsync(folder.Directory, settings);
        using var client = new HttpClient { BaseAddress = api.BaseAddress };

        var index = await client.GetAsync("/demo/");

        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Contains("<script src=\"app.js\" defer></script>", await index.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/demo/app.js")).StatusCode);
    }

    [Fact]
    public async Task A_missing_demo_folder_is_a_logged_warning_and_the_app_serves_on_without_it()
    {
        using var folder = new TemporaryDatabase("accounts-demo-");
        var logs = new CapturedLogs();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = folder.Directory, EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[DemoSite.EnabledKey] = "true";
        builder.Logging.ClearProviders().AddProvider(logs);
        await using var app = builder.Build();

        app.UseDemo(folder.Directory, Path.Combine(folder.Directory, "elsewhere"));
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal("pong", await client.GetStringAsync("/ping"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/demo/")).StatusCode);
        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Demo/site", StringComparison.Ordinal));
        Assert.Contains(folder.Directory, warning.Message, StringComparison.Ordinal);
    }
}
