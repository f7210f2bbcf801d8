using Microsoft.Extensions.Options;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// <c>PublicBaseUrl</c>: the only base for links the service mails out. Links are never built from
/// a request's Host header, which any client can forge.
/// </summary>
public sealed class PublicUrlOptions
{
    public const string Key = "PublicBaseUrl";

    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>The parsed base URL; valid once options validation has passed.</summary>
    public Uri BaseUri => new(PublicBaseUrl.EndsWith('/') ? PublicBaseUrl : PublicBaseUrl + "/", UriKind.Absolute);

    internal sealed class Validator : IValidateOptions<PublicUrlOptions>
    {
        public ValidateOptionsResult Validate(string? name, PublicUrlOptions options) =>
            IsHttpUrl(options.PublicBaseUrl)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    $"{Key} '{options.PublicBaseUrl}' must be an absolute http or https URL without query or fragment.");
    }

    /// <summary>True for an absolute http(s) URL with no query and no fragment.</summary>
    public static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.Query)
        && string.IsNullOrEmpty(uri.Fragment);
}

public static class PublicUrlExtensions
{
    public static IServiceCollection AddPublicUrl(this IServiceCollection services)
    {
        // A key at the root of configuration, not a section: bound from the root.
        services.AddValidatedOptions<PublicUrlOptions, PublicUrlOptions.Validator>(section: "");
        return services;
    }
}
