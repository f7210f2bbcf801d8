using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Builds mailed links from <c>PublicBaseUrl</c> and an endpoint's name (or from a configured SPA page), never from a request.</summary>
public sealed class AccountLinks(
    LinkGenerator links,
    IOptions<PublicUrlOptions> urls,
    IOptions<ActivationOptions> activation,
    IOptions<PasswordResetOptions> passwordReset)
{
    public Uri EmailChange(string token) => Build(null, EmailChangeApi.EndpointName, token);

    public Uri Activation(string token) => Build(activation.Value.LinkUrl, ActivationApi.EndpointName, token);

    public Uri PasswordReset(string token) => Build(passwordReset.Value.LinkUrl, PasswordResetApi.FormEndpointName, token);

    private Uri Build(string? spaPage, string endpointName, string token)
    {
        if (spaPage is not null)
        {
            return new Uri(QueryHelpers.AddQueryString(spaPage, "token", token));
        }

        // The token is added after link generation, so the generator's debug log never sees it.
        var baseUri = urls.Value.BaseUri;
        var uri = links.GetUriByName(
            endpointName,
            values: new RouteValueDictionary(),
            baseUri.Scheme,
            new HostString(baseUri.Authority),
            new PathString(baseUri.AbsolutePath.TrimEnd('/')))
            ?? throw new InvalidOperationException($"No endpoint is named '{endpointName}'.");
        return new Uri(QueryHelpers.AddQueryString(uri, "token", token));
    }
}
