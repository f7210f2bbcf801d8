using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;

namespace Accounts.Api.Tests.Browser;

/// <summary>
/// One headless Debian Chromium, driven by Playwright for .NET, shared by every browser test (they
/// run one at a time in <see cref="SharedBrowser"/>). Each test opens its own context: its own
/// cookies, storage and language.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's <c>chromium</c> package; Playwright's own browser download does not work here.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Where each test saves the screenshots of its final states: test artifacts, never committed.</summary>
    public static readonly string ScreenshotDirectory = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests drive Debian's Chromium at {ChromiumPath}, which is not installed. "
                + ".ci/run installs it (apt-get install -y chromium); run .ci/run, or install that package yourself.");
        }

        // Auto-waiting assertions get room for a busy 2-core machine; they return as soon as the page is right.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 60_000,
            Args =
            [
                .. Environment.UserName == "root" ? ["--no-sandbox"] : Array.Empty<string>(),
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        });
    }

    /// <summary>A fresh browser context whose language (navigator.languages and Accept-Language) is <paramref name="locale"/>.</summary>
    public async Task<IBrowserContext> NewContextAsync(string locale = "en-US")
    {
        var context = await (_browser ?? throw new InvalidOperationException("The browser did not start.")).NewContextAsync(new BrowserNewContextOptions
        {
            Locale = locale,
            ViewportSize = new ViewportSize { Width = 900, Height = 800 },
        });
        context.SetDefaultTimeout(30_000);
        return context;
    }

    /// <summary>Saves the whole page as <c>screenshots/<paramref name="name"/>.png</c>.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"{name}.png"), FullPage = true });
    }

    /// <summary>Saves one element as <c>screenshots/<paramref name="name"/>.png</c>.</summary>
    public static async Task ScreenshotAsync(ILocator element, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await element.ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"{name}.png") });
    }

    /// <summary>A loopback port free right now, for an app whose settings must name its own address.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>The browser tests share one Chromium and run one after another, which a 2-core machine needs.</summary>
[CollectionDefinition(Name)]
public sealed class SharedBrowser : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
