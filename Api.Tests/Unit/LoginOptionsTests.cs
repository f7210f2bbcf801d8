using Accounts.Api.Accounts;

namespace Accounts.Api.Tests.Unit;

public sealed class LoginOptionsTests
{
    [Fact]
    public void The_defaults_are_the_design_s_an_hour_and_fourteen_days()
    {
        var options = new LoginOptions();

        Assert.Equal(TimeSpan.FromHours(1), options.AccessTokenLifetime);
        Assert.Equal(TimeSpan.FromDays(14), options.RefreshTokenLifetime);
        Assert.True(new LoginOptions.Validator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void A_refresh_token_may_not_live_shorter_than_the_access_token_it_comes_with_and_the_failure_names_both_keys()
    {
        var result = new LoginOptions.Validator().Validate(null, new LoginOptions
        {
            AccessTokenLifetime = TimeSpan.FromHours(2),
            RefreshTokenLifetime = TimeSpan.FromHours(1),
        });

        Assert.True(result.Failed);
        Assert.Contains("Login:RefreshTokenLifetime", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Login:AccessTokenLifetime", result.FailureMessage, StringComparison.Ordinal);
    }
}
