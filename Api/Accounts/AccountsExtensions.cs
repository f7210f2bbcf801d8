using Accounts.Api.Email;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

public static class AccountsExtensions
{
    /// <summary>Registration and activation: validators, stores, password hashing and the account mails.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<ActivationOptions>().BindConfiguration(ActivationOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ActivationOptions>, ActivationOptions.Validator>();
        services.AddOptions<PasswordOptions>().BindConfiguration(PasswordOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordOptions>, PasswordOptions.Validator>();

        services.AddSingleton<PasswordHashing>();
        services.AddSingleton<PasswordStrength>();
        services.AddSingleton<IValidator<RegisterRequest>, RegisterRequestValidator>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<AccountTokenStore>();
        services.AddSingleton<AccountActivator>();
        services.AddSingleton<ActivationLinks>();

        services.AddKeyedScoped<IEmailComposer, ActivationEmailComposer>(AccountEmailKinds.Activation);
        services.AddKeyedScoped<IEmailComposer, AccountExistsEmailComposer>(AccountEmailKinds.AccountExists);
        return services;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder routes) =>
        routes.MapRegistration().MapActivation();
}
