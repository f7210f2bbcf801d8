using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>A new password, with the token from the reset link.</summary>
public sealed record ResetPasswordRequest : INormalizable<ResetPasswordRequest>
{
    /// <summary>The 43-character token from the reset link.</summary>
    /// <example>q5V2mXk0c7a8J1yq3sWmP4oT9bE6uR2nL0dF8hG5kZw</example>
    public string Token { get; init; } = "";

    /// <summary>8–128 characters, not easily guessed (zxcvbn score 2 or more).</summary>
    /// <example>a new horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>Must equal <c>password</c>.</summary>
    /// <example>a new horse battery staple</example>
    public string ConfirmPassword { get; init; } = "";

    /// <summary>The request with a field sent as null made empty; nothing else changes (a token and a password are taken exactly as sent).</summary>
    public ResetPasswordRequest Normalize() => this with { Token = Token ?? "", Password = Password ?? "", ConfirmPassword = ConfirmPassword ?? "" };
}

/// <summary>The checks that need no account; strength against the account's own words comes after the token is found.</summary>
public sealed class ResetPasswordRequestValidator : AbstractValidator<ResetPasswordRequest>
{
    public ResetPasswordRequestValidator()
    {
        RuleFor(r => r.Token)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Token is required.")
            .Must(t => AccountTokens.TryHash(t, out _))
            .WithMessage($"Token must be the {AccountTokens.TextLength}-character code from the reset link.");
        RuleFor(r => r.Password).PasswordLength();
        RuleFor(r => r.ConfirmPassword)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Confirm the password.")
            .Equal(r => r.Password).WithMessage("Passwords do not match.");
    }
}
