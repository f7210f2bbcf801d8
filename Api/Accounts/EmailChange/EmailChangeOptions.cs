using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Settings under <c>EmailChange</c>.</summary>
public sealed class EmailChangeOptions
{
    public const string SectionName = "EmailChange";

    /// <summary>How long an email-change link and its code work, counted from when they are mailed.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>At most one email-change request's mails per account in this time.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromMinutes(1);

    internal sealed class Validator : IValidateOptions<EmailChangeOptions>
    {
        public ValidateOptionsResult Validate(string? name, EmailChangeOptions options)
        {
            var failures = new List<string>();
            if (options.TokenLifetime <= TimeSpan.Zero)
            {
                failures.Add("EmailChange:TokenLifetime must be positive.");
            }

            if (options.Cooldown < TimeSpan.Zero)
            {
                failures.Add("EmailChange:Cooldown must not be negative.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
