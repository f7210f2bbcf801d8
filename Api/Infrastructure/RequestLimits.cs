namespace Accounts.Api.Infrastructure;

public static class RequestLimits
{
    /// <summary>No request body of this API comes near it; a larger one is refused with 413 before it is read.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        return builder;
    }
}
