using Accounts.Api.Accounts;
using Accounts.Api.Email;
using Accounts.Api.Housekeeping;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Unit;

public sealed class HousekeepingOptionsTests
{
    [Fact]
    public void Retention_must_be_longer_than_every_cooldown_that_reads_the_outbox_and_the_failure_names_each_one_too_long()
    {
        var validator = new RetentionValidator(
            Options.Create(new ActivationOptions { ResendCooldown = TimeSpan.FromHours(2) }),
            Options.Create(new PasswordResetOptions { Cooldown = TimeSpan.FromMinutes(1) }),
            Options.Create(new EmailChangeOptions { Cooldown = TimeSpan.FromHours(3) }));

        var tooShort = validator.Validate(null, new EmailOptions { Delivery = { Retention = TimeSpan.FromHours(2) } });
        var enough = validator.Validate(null, new EmailOptions { Delivery = { Retention = TimeSpan.FromHours(3) + TimeSpan.FromSeconds(1) } });

        Assert.True(tooShort.Failed);
        Assert.Contains("Email:Delivery:Retention", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Activation:ResendCooldown", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("EmailChange:Cooldown", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("PasswordReset:Cooldown", tooShort.FailureMessage, StringComparison.Ordinal);
        Assert.True(enough.Succeeded);
    }

    [Fact]
    public void A_pending_account_must_outlive_its_first_link_and_the_interval_may_be_off_but_not_negative()
    {
        var lifetime = new AccountLifetimeOptions.Validator(Options.Create(new ActivationOptions { TokenLifetime = TimeSpan.FromDays(2) }));
        var interval = new HousekeepingOptions.Validator();

        Assert.True(lifetime.Validate(null, new AccountLifetimeOptions { PendingAccountLifetime = TimeSpan.FromDays(1) }).Failed);
        Assert.True(lifetime.Validate(null, new AccountLifetimeOptions { PendingAccountLifetime = TimeSpan.FromDays(2) }).Succeeded);
        Assert.True(interval.Validate(null, new HousekeepingOptions { Interval = TimeSpan.Zero }).Succeeded);
        Assert.True(interval.Validate(null, new HousekeepingOptions { Interval = TimeSpan.FromSeconds(-1) }).Failed);
    }
}
