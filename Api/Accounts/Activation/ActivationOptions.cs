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

    /// <summary>
    /// When true (the default), a mailed link opened by anything but a JSON client (a browser, a mail
    /// scanner) shows a page with an Activate button, and only that button's POST activates; false
    /// brings back one-click activation for browsers.
    /// </summary>
    public bool ConfirmInBrowser { get; set; } = true;

    /// <summary>Tries of a code (activation, reset or email change) before it is used up; a new code starts again.</summary>
    public int MaxCodeAttempts { get; set; } = 5;

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

            if (options.MaxCodeAttempts < 1)
            {
                failures.Add("Activation:MaxCodeAttempts must be at least 1.");
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
