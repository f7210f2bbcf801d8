using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

public static class AccountsExtensions
{
    /// <summary>Registration, activation, sign-in and password reset: options, validators, stores, hashing, mails.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddValidatedOptions<ActivationOptions, ActivationOptions.Validator>(ActivationOptions.SectionName);
        services.AddValidatedOptions<PasswordOptions, PasswordOptions.Validator>(PasswordOptions.SectionName);
        services.AddValidatedOptions<PasswordResetOptions, PasswordResetOptions.Validator>(PasswordResetOptions.SectionName);
        services.AddValidatedOptions<LoginOptions, LoginOptions.Validator>(LoginOptions.SectionName);
        services.AddValidatedOptions<EmailChangeOptions, EmailChangeOptions.Validator>(EmailChangeOptions.SectionName);

        services.AddSingleton<PasswordHashing>();
        services.AddSingleton<PasswordStrength>();
        services.AddSingleton<IValidator<RegisterRequest>, RegisterRequestValidator>();
        services.AddSingleton<IValidator<EmailRequest>, EmailRequestValidator>();
        services.AddSingleton<IValidator<LoginRequest>, LoginRequestValidator>();
        services.AddSingleton<IValidator<ResetPasswordRequest>, ResetPasswordRequestValidator>();
        services.AddSingleton<IValidator<ChangePasswordRequest>, ChangePasswordRequestValidator>();
        services.AddSingleton<IValidator<ChangeEmailRequest>, ChangeEmailRequestValidator>();
        services.AddSingleton<IValidator<DeleteAccountRequest>, DeleteAccountRequestValidator>();
        services.AddSingleton<EmailChanger>();
        services.AddSingleton<AccountActivator>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<Sessions>();
        services.AddSingleton<AccountLinks>();
        services.AddSingleton(AccountEmailTemplates.Catalog);
        services.AddSingleton(AccountEvents.Catalog);
        services.AddSingleton<AccountEvents>();
        services.AddSingleton<AccountEmailTemplates>();

        services.AddKeyedScoped<IEmailComposer, ActivationEmailComposer>(ActivationEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, AccountExistsEmailComposer>(AccountExistsEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, PasswordResetEmailComposer>(PasswordResetEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, PasswordChangedEmailComposer>(PasswordChangedEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, EmailChangeEmailComposer>(EmailChangeEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, EmailChangeRequestedEmailComposer>(EmailChangeRequestedEmailComposer.Kind);
        services.AddKeyedScoped<IEmailComposer, EmailInUseEmailComposer>(EmailInUseEmailComposer.Kind);

        // Access tokens are ASP.NET Core's own bearer tokens, protected with Data Protection, sent in
        // the Authorization header or (cookie mode) in the session cookie.
        services.AddAuthentication(BearerTokenDefaults.AuthenticationScheme).AddBearerToken(SessionCookies.ReadAccessCookie);
        services.AddOptions<BearerTokenOptions>(BearerTokenDefaults.AuthenticationScheme)
            .Configure<IOptions<LoginOptions>>((bearer, login) => bearer.BearerTokenExpiration = login.Value.AccessTokenLifetime);
        services.AddAuthorization();

        services.AddApiDocumentationOf(
            new Dictionary<string, string>
            {
                ["Accounts"] = "Register, activate from the mailed link, sign in, read the signed-in profile, change the email address or the password, erase the account, reset a forgotten password.",
                ["Sessions"] = "Keep a session going with rotating refresh tokens, and end it: here, or everywhere.",
            },
            ProblemCodes.DeclaredIn(typeof(AccountErrors)));
        return services;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder routes) =>
        routes.MapRegistration().MapActivation().MapResend().MapLogin().MapSessions().MapProfile().MapPasswordChange().MapEmailChange().MapAccountDeletion().MapPasswordReset();
}
