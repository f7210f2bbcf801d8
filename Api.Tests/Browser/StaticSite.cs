using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Accounts.Api.Tests.Browser;

/// <summary>
/// A second origin: a bare Kestrel on another loopback port that serves the demo's files at
/// <c>/demo/</c>, as a front-end developer's own dev server would. It knows nothing of the API.
/// </summary>
public sealed class StaticSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StaticSite(WebApplication app)
    {
        _app = app;
        Origin = new Uri(app.Urls.First()).GetLeftPart(UriPartial.Authority);
    }

    /// <summary><c>http://127.0.0.1:port</c>, with no trailing slash, as a browser sends it in <c>Origin</c>.</summary>
    public string Origin { get; }

    /// <summary>The demo's files in the repository: <c>Api/Demo/site</c>.</summary>
    public static string DemoFolder
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var folder = Path.Combine(directory.FullName, "Api", "Demo", "site");
                if (Directory.Exists(folder))
                {
                    return folder;
                }
            }

            throw new DirectoryNotFoundException($"No Api/Demo/site above {AppContext.BaseDirectory}.");
        }
    }

    public static async Task<StaticSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseFileServer(new FileServerOptions { RequestPath = "/demo", FileProvider = new PhysicalFileProvider(DemoFolder) });
        await app.StartAsync();
        return new StaticSite(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
