using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Settings under <c>Activation</c>.</summary>
public sealed class ActivationOptions
{
    public const string SectionName = "Activation";

    /// <summary>How long an activation link works, counted from when it is mailed.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>At most one activation mail per address in this time (the registration mail counts).</summary>
    public TimeSpan ResendCooldown { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The SPA page a browser is sent to after following a link, with <c>?status=…</c>.</summary>
    public string? RedirectUrl { get; set; }

    /// <summary>When set, mailed links point to this SPA page with <c>?token=…</c>, and the page POSTs the token.</summary>
    public string? LinkUrl { get; set; }

    internal sealed class Validator : IValidateOptions<ActivationOptions>
    {
        public ValidateOptionsResult Validate(string? name, ActivationOptions options)
        {
            var failures = new List<string>();
            if (options.TokenLifetime <= TimeSpan.Zero)
            {
                failures.Add("Activation:TokenLifetime must be positive.");
            }

            if (options.ResendCooldown < TimeSpan.Zero)
            {
                failures.Add("Activation:ResendCooldown must not be negative.");
            }

            if (options.RedirectUrl is not null && !PublicUrlOptions.IsHttpUrl(options.RedirectUrl))
            {
                failures.Add($"Activation:RedirectUrl '{options.RedirectUrl}' must be an absolute http or https URL without query or fragment.");
            }

            if (options.LinkUrl is not null && !PublicUrlOptions.IsHttpUrl(options.LinkUrl))
            {
                failures.Add($"Activation:LinkUrl '{options.LinkUrl}' must be an absolute http or https URL without query or fragment.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>Settings under <c>Passwords</c>.</summary>
public sealed class PasswordOptions
{
    public const string SectionName = "Passwords";

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA512.</summary>
    public const int DefaultIterations = 220_000;

    /// <summary>PBKDF2-HMAC-SHA512 iterations for new hashes; older hashes are upgraded at login.</summary>
    public int Iterations { get; set; } = DefaultIterations;

    internal sealed class Validator : IValidateOptions<PasswordOptions>
    {
        public ValidateOptionsResult Validate(string? name, PasswordOptions options) =>
            options.Iterations is >= 1_000 and <= 10_000_000
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"Passwords:Iterations must be between 1000 and 10000000 (OWASP recommends {DefaultIterations}).");
    }
}

/// <summary>Settings under <c>PasswordReset</c>.</summary>
public sealed class PasswordResetOptions
{
    public const string SectionName = "PasswordReset";

    /// <summary>How long a reset link works, counted from when it is mailed.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>At most one reset mail per address in this time.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>When set, mailed reset links point to this SPA page with <c>?token=…</c> instead of <c>GET /password/reset</c>.</summary>
    public string? LinkUrl { get; set; }

    internal sealed class Validator : IValidateOptions<PasswordResetOptions>
    {
        public ValidateOptionsResult Validate(string? name, PasswordResetOptions options)
        {
            var failures = new List<string>();
            if (options.TokenLifetime <= TimeSpan.Zero)
            {
                failures.Add("PasswordReset:TokenLifetime must be positive.");
            }

            if (options.Cooldown < TimeSpan.Zero)
            {
                failures.Add("PasswordReset:Cooldown must not be negative.");
            }

            if (options.LinkUrl is not null && !PublicUrlOptions.IsHttpUrl(options.LinkUrl))
            {
                failures.Add($"PasswordReset:LinkUrl '{options.LinkUrl}' must be an absolute http or https URL without query or fragment.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>Settings under <c>Login</c>.</summary>
public sealed class LoginOptions
{
    public const string SectionName = "Login";

    /// <summary>How long a bearer token from <c>POST /login</c> works.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failed sign-ins for one login before it is locked for a while.</summary>
    public int MaxFailures { get; set; } = 5;

    /// <summary>The first lock's length; each further failure doubles it, up to <see cref="MaxLockout"/>.</summary>
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest lock: an attacker can delay a person, never shut them out for good.</summary>
    public TimeSpan MaxLockout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failures older than this are forgotten.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    internal sealed class Validator : IValidateOptions<LoginOptions>
    {
        public ValidateOptionsResult Validate(string? name, LoginOptions options)
        {
            var failures = new List<string>();
            if (options.AccessTokenLifetime <= TimeSpan.Zero)
            {
                failures.Add("Login:AccessTokenLifetime must be positive.");
            }

            if (options.MaxFailures < 1)
            {
                failures.Add("Login:MaxFailures must be at least 1.");
            }

            if (options.Lockout <= TimeSpan.Zero || options.MaxLockout < options.Lockout)
            {
                failures.Add("Login:Lockout must be positive and Login:MaxLockout at least as long.");
            }

            if (options.FailureWindow <= TimeSpan.Zero)
            {
                failures.Add("Login:FailureWindow must be positive.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
