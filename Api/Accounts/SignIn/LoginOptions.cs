using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Settings under <c>Login</c>.</summary>
public sealed class LoginOptions
{
    public const string SectionName = "Login";

    /// <summary>How long an access token from <c>POST /login</c> or <c>POST /token/refresh</c> works.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an unused refresh token works; each use rotates it, and the session lives as long as its newest one.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

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

            // An access token must not outlive the refresh token it came with: a session ends with its newest refresh token.
            if (options.RefreshTokenLifetime < options.AccessTokenLifetime)
            {
                failures.Add("Login:RefreshTokenLifetime must be at least as long as Login:AccessTokenLifetime.");
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
