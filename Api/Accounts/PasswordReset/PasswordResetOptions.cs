using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

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
