using Microsoft.Extensions.FileProviders;

namespace Accounts.Api.Demo;

/// <summary>
/// The demo SPA at <c>/demo/</c>: plain HTML and JavaScript from <c>Demo/site</c>, no build step.
/// Served when <c>Demo:Enabled</c> is true; when unset, on in Development and off elsewhere.
/// </summary>
public static partial class DemoSite
{
    public const string EnabledKey = "Demo:Enabled";
    public const string RequestPath = "/demo";

    /// <summary>
    /// Scripts and styles only from the page's own origin; <c>connect-src 'self'</c> keeps the pages the
    /// API serves talking to this API alone, whatever <c>?api=</c> a link carries.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>The first of <paramref name="roots"/> that holds <c>Demo/site</c>.</summary>
    internal static string? FindFolder(params string[] roots) =>
        roots.Select(root => Path.Combine(root, "Demo", "site")).FirstOrDefault(Directory.Exists);

    /// <summary>
    /// Serves the pages from <c>Demo/site</c> under the content root (the project folder under
    /// <c>dotnet run</c>, the working directory otherwise), else beside the app's assemblies (the
    /// build and publish output both carry it).
    /// </summary>
    public static WebApplication UseDemo(this WebApplication app) =>
        app.UseDemo(app.Environment.ContentRootPath, AppContext.BaseDirectory);

    /// <summary>Serves the demo from the first of <paramref name="roots"/> that holds <c>Demo/site</c>; a warning when none does.</summary>
    internal static WebApplication UseDemo(this WebApplication app, params string[] roots)
    {
        if (!app.Configuration.GetValue(EnabledKey, defaultValue: app.Environment.IsDevelopment()))
        {
            return app;
        }

        if (FindFolder(roots) is not { } folder)
        {
            LogMissing(app.Logger, EnabledKey, string.Join(", ", roots));
            return app;
        }

        app.UseFileServer(new FileServerOptions
        {
            RequestPath = RequestPath,
            FileProvider = new PhysicalFileProvider(folder),
            StaticFileOptions =
            {
                OnPrepareResponse = context =>
                {
                    var headers = context.Context.Response.Headers;
                    headers.CacheControl = "no-cache";
                    headers.XContentTypeOptions = "nosniff";
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers["Referrer-Policy"] = "no-referrer";
                },
            },
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} is on, but no Demo/site folder is under {Roots}: the demo is not served.")]
    private static partial void LogMissing(ILogger logger, string key, string roots);
}
