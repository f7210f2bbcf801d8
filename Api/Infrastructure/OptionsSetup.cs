using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// The one way settings are read: an options class per section, bound from configuration, with a
/// nested <c>Validator</c> whose failures name the full key (<c>Email:Delivery:Connections …</c>),
/// checked when the host starts, so a wrong setting stops the app at once instead of failing the
/// first request that needs it.
/// </summary>
public static class OptionsSetup
{
    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> (empty: the root) and validates it with <typeparamref name="TValidator"/> at start.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }
}
