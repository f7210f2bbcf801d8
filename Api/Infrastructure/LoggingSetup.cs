using Microsoft.AspNetCore.HttpLogging;

namespace Accounts.Api.Infrastructure;

public static class LoggingSetup
{
    /// <summary>
    /// Outside Development, one JSON object per line with its scopes (RequestId, TraceId, the
    /// request path), ready for a log collector; in Development, readable lines with scopes.
    /// Requests are logged by path, method, status and duration, never with their query string:
    /// activation and reset links carry their token there.
    /// </summary>
    public static WebApplicationBuilder AddApiLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        // The host's own request lines include the query string; HTTP logging below replaces them.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Services.AddHttpLogging(options =>
        {
            options.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath
                | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            options.CombineLogs = true;
        });
        if (builder.Environment.IsDevelopment())
        {
            builder.Logging.AddSimpleConsole(options => options.IncludeScopes = true);
        }
        else
        {
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        }

        return builder;
    }
}
