using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Infrastructure;

/// <summary>Settings under <c>Cors</c>: the SPA origins a browser may call the API from. None by default: same origin only.</summary>
public sealed class CrossOriginOptions
{
    public const string SectionName = "Cors";

    /// <summary>Origins such as <c>http://localhost:5173</c>: scheme, host and port, nothing else.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    internal sealed class Validator : IValidateOptions<CrossOriginOptions>
    {
        public ValidateOptionsResult Validate(string? name, CrossOriginOptions options)
        {
            var failures = options.AllowedOrigins
                .Select((origin, index) => (origin, index))
                .Where(o => !IsOrigin(o.origin))
                .Select(o => $"Cors:AllowedOrigins:{o.index} '{o.origin}' must be an origin: http(s)://host[:port], with no path, query or trailing slash.")
                .ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static bool IsOrigin(string? value) =>
            Uri.TryCreate(value, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && string.IsNullOrEmpty(uri.UserInfo)
            && value.Equals(uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// CORS for SPAs on other origins: only the configured origins, only what the SPA sends
/// (<c>Content-Type</c>, <c>Authorization</c> and <c>X-CSRF</c> headers, GET and POST). The
/// configured origins may send credentials, so an SPA on another origin of the same site (say
/// <c>app.example.com</c> for <c>accounts.example.com</c>) can use cookie mode; the cookies are
/// <c>SameSite=Strict</c>, so no other site's page gets them sent, and an origin not listed gets no
/// CORS headers at all.
/// </summary>
public static class Cors
{
    public static IServiceCollection AddApiCors(this IServiceCollection services)
    {
        services.AddValidatedOptions<CrossOriginOptions, CrossOriginOptions.Validator>(CrossOriginOptions.SectionName);
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CrossOriginOptions>>((cors, settings) =>
            cors.AddDefaultPolicy(policy => policy
                .WithOrigins(settings.Value.AllowedOrigins)
                .WithHeaders("Content-Type", "Authorization", Accounts.SessionCookies.CsrfHeader)
                .AllowCredentials()
                .WithMethods("GET", "POST")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return services;
    }

    public static WebApplication UseApiCors(this WebApplication app)
    {
        app.UseCors();
        return app;
    }
}
