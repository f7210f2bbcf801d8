using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>The signed-in account's current password, and the new one twice.</summary>
public sealed record ChangePasswordRequest : INormalizable<ChangePasswordRequest>
{
    /// <summary>The password the account signs in with now.</summary>
    /// <example>correct horse battery staple</example>
    public string CurrentPassword { get; init; } = "";

    /// <summary>8–128 characters, not easily guessed (zxcvbn score 2 or more).</summary>
    /// <example>a new horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>Must equal <c>password</c>.</summary>
    /// <example>a new horse battery staple</example>
    public string ConfirmPassword { get; init; } = "";

    /// <summary>The request with a field sent as null made empty; passwords are taken exactly as sent.</summary>
    public ChangePasswordRequest Normalize() => this with
    {
        CurrentPassword = CurrentPassword ?? "",
        Password = Password ?? "",
        ConfirmPassword = ConfirmPassword ?? "",
    };
}

/// <summary>The checks that need no account; strength against the account's own words comes once it is found.</summary>
public sealed class ChangePasswordRequestValidator : AbstractValidator<ChangePasswordRequest>
{
    public ChangePasswordRequestValidator()
    {
        RuleFor(r => r.CurrentPassword).NotEmpty().WithMessage("Current password is required.");
        RuleFor(r => r.Password).PasswordLength();
        RuleFor(r => r.ConfirmPassword)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Confirm the password.")
            .Equal(r => r.Password).WithMessage("Passwords do not match.");
    }
}
