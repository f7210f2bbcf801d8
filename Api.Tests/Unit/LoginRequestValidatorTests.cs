using Accounts.Api.Accounts;
using FluentValidation.TestHelper;

namespace Accounts.Api.Tests.Unit;

public sealed class LoginRequestValidatorTests
{
    private readonly LoginRequestValidator _validator = new();

    [Theory]
    [InlineData("alice\u0000")]
    [InlineData("\u0001alice")]
    [InlineData("alice\r\n@example.com")]
    public void A_login_with_a_control_character_is_refused_naming_the_field(string login)
    {
        var result = _validator.TestValidate(new LoginRequest { Login = login, Password = "whatever it is" });

        result.ShouldHaveValidationErrorFor(r => r.Login).WithErrorMessage("Login must not contain control characters.");
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("张伟")]
    [InlineData("alice@example.com")]
    public void A_username_or_email_passes(string login) =>
        _validator.TestValidate(new LoginRequest { Login = login, Password = "whatever it is" }).ShouldNotHaveAnyValidationErrors();

    [Fact]
    public void A_missing_login_is_reported_once_as_required()
    {
        var result = _validator.TestValidate(new LoginRequest { Password = "whatever it is" });

        Assert.Equal(["Login is required: a username or an email address."], result.Errors.Select(e => e.ErrorMessage));
    }
}
