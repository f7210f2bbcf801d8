using Microsoft.Extensions.FileProviders;

namespace Accounts.Api.Demo;

/// <summary>
/// The demo SPA at <c>/demo/</c>: plain HTML and JavaScript from <c>Demo/site</c>, no build step.
/// Served when <c>Demo:Enabled</c> is true; when unset, on in Development and off elsewhere.
/// </summary>
public static class DemoSite
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

    /// <summary>The folder the pages are served from.</summary>
    public static string Folder(IHostEnvironment environment) => Path.Combine(environment.ContentRootPath, "Demo", "site");

    public static WebApplication UseDemo(this WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledKey, defaultValue: app.Environment.IsDevelopment()))
        {
            return app;
        }

        app.UseFileServer(new FileServerOptions
        {
            RequestPath = RequestPath,
            FileProvider = new PhysicalFileProvider(Folder(app.Environment)),
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
}
