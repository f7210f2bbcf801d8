using Accounts.Api.Accounts;
using Accounts.Api.Email;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Housekeeping;

/// <summary>Settings under <c>Housekeeping</c>.</summary>
public sealed class HousekeepingOptions
{
    public const string SectionName = "Housekeeping";

    /// <summary>
    /// How often the housekeeping runs (the first run comes a minute after start, or sooner when
    /// this is shorter); <c>00:00:00</c> turns it off in this instance, for a deployment where
    /// other instances do it.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    internal sealed class Validator : IValidateOptions<HousekeepingOptions>
    {
        public ValidateOptionsResult Validate(string? name, HousekeepingOptions options) =>
            options.Interval < TimeSpan.Zero
                ? ValidateOptionsResult.Fail("Housekeeping:Interval must be 00:00:00 (off) or positive.")
                : ValidateOptionsResult.Success;
    }
}

/// <summary>Settings under <c>Accounts</c>.</summary>
public sealed class AccountLifetimeOptions
{
    public const string SectionName = "Accounts";

    /// <summary>A never-activated account is erased this long after it registered, which frees its username and email.</summary>
    public TimeSpan PendingAccountLifetime { get; set; } = TimeSpan.FromDays(7);

    internal sealed class Validator(IOptions<ActivationOptions> activation) : IValidateOptions<AccountLifetimeOptions>
    {
        public ValidateOptionsResult Validate(string? name, AccountLifetimeOptions options) =>
            options.PendingAccountLifetime < activation.Value.TokenLifetime
                ? ValidateOptionsResult.Fail(
                    $"Accounts:PendingAccountLifetime ({options.PendingAccountLifetime}) must be at least Activation:TokenLifetime "
                    + $"({activation.Value.TokenLifetime}): an account must outlive its first activation link.")
                : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// <c>Email:Delivery:Retention</c> against the cooldowns that read the outbox to learn when an
/// account was last mailed: a row deleted inside one would let a mail through early.
/// </summary>
internal sealed class RetentionValidator(
    IOptions<ActivationOptions> activation, IOptions<PasswordResetOptions> reset, IOptions<EmailChangeOptions> emailChange)
    : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var retention = options.Delivery.Retention;
        var cooldowns = new (string Key, TimeSpan Value)[]
        {
            ("Activation:ResendCooldown", activation.Value.ResendCooldown),
            ("PasswordReset:Cooldown", reset.Value.Cooldown),
            ("EmailChange:Cooldown", emailChange.Value.Cooldown),
        };
        var shorter = cooldowns.Where(c => retention <= c.Value).Select(c => $"{c.Key} ({c.Value})").ToList();
        return shorter.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Email:Delivery:Retention ({retention}) must be longer than {string.Join(" and ", shorter)}: those cooldowns read the outbox.");
    }
}
