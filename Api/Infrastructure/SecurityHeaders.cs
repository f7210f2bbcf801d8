namespace Accounts.Api.Infrastructure;

/// <summary>
/// <c>X-Content-Type-Options: nosniff</c> on every response; on HTML a page did not secure itself
/// (Swagger UI), at least <c>frame-ancestors 'none'</c> and <c>Referrer-Policy: no-referrer</c>.
/// HSTS outside Development.
/// </summary>
public static class SecurityHeaders
{
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.Use((context, next) =>
        {
            var response = context.Response;
            response.OnStarting(() =>
            {
                response.Headers.XContentTypeOptions = "nosniff";
                if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    if (string.IsNullOrEmpty(response.Headers.ContentSecurityPolicy))
                    {
                        response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                    }

                    response.Headers["Referrer-Policy"] = "no-referrer";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }
}
