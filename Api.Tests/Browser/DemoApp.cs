using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Browser;

/// <summary>The app with the demo on, on a known loopback port, so mailed links and the activation redirect point at it.</summary>
public static class DemoApp
{
    public static TestApp Start(out TestSmtpServer smtp, FakeTimeProvider? time = null)
    {
        var port = BrowserFixture.FreePort();
        smtp = new TestSmtpServer();
        return TestApp.Start(smtp, Settings(port, linkToDemo: false), time, port: port);
    }

    /// <summary>The demo on, links to this app on <paramref name="port"/>; with <paramref name="linkToDemo"/>, activation links open the demo's page.</summary>
    public static Dictionary<string, string?> Settings(int port, bool linkToDemo)
    {
        var baseUrl = $"http://127.0.0.1:{port}";
        var settings = new Dictionary<string, string?>
        {
            ["PublicBaseUrl"] = baseUrl,
            ["Demo:Enabled"] = "true",
            ["Activation:RedirectUrl"] = $"{baseUrl}/demo/activated.html",
        };
        if (linkToDemo)
        {
            settings["Activation:LinkUrl"] = $"{baseUrl}/demo/activated.html";
        }

        return settings;
    }

    /// <summary>The absolute address of <paramref name="relative"/> on <paramref name="app"/>.</summary>
    public static string Url(TestApp app, string relative) => new Uri(app.BaseAddress, relative).AbsoluteUri;
}
