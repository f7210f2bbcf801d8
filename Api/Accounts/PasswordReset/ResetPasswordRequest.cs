using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>A new password, with the token from the reset link, or the address and the code from the reset mail.</summary>
public sealed record ResetPasswordRequest : INormalizable<ResetPasswordRequest>
{
    /// <summary>The 43-character token from the reset link. Send it, or <c>email</c> and <c>code</c>.</summary>
    /// <example>q5V2mXk0c7a8J1yq3sWmP4oT9bE6uR2nL0dF8hG5kZw</example>
    public string? Token { get; init; }

    /// <summary>With <c>code</c>: the address the reset mail went to.</summary>
    /// <example>alice@example.com</example>
    public string? Email { get; init; }

    /// <summary>With <c>email</c>: the 6-digit code from the reset mail.</summary>
    /// <example>042917</example>
    public string? Code { get; init; }

    /// <summary>8–128 characters, not easily guessed (zxcvbn score 2 or more).</summary>
    /// <example>a new horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>Must equal <c>password</c>.</summary>
    /// <example>a new horse battery staple</example>
    public string ConfirmPassword { get; init; } = "";

    /// <summary>The request with passwords sent as null made empty and the address cleaned; a token and a password are taken exactly as sent.</summary>
    public ResetPasswordRequest Normalize() => this with
    {
        Token = string.IsNullOrEmpty(Token) ? null : Token,
        Email = Normalization.Clean(Email) is { Length: > 0 } email ? email : null,
        Code = string.IsNullOrWhiteSpace(Code) ? null : Code.Trim(),
        Password = Password ?? "",
        ConfirmPassword = ConfirmPassword ?? "",
    };

    /// <summary>True when the request names its link by address and code rather than by token.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ByCode => Token is null && (Email is not null || Code is not null);
}

/// <summary>The checks that need no account; strength against the account's own words comes after the token is found.</summary>
public sealed class ResetPasswordRequestValidator : AbstractValidator<ResetPasswordRequest>
{
    public ResetPasswordRequestValidator()
    {
        When(r => !r.ByCode, () => RuleFor(r => r.Token)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Token is required (or email and code).")
            .Must(t => AccountTokens.TryHash(t, out _))
            .WithMessage($"Token must be the {AccountTokens.TextLength}-character code from the reset link."));
        When(r => r.ByCode, () =>
        {
            RuleFor(r => r.Email)
                .Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("Email is required with a code.")
                .Must(EmailAddresses.IsValid).WithMessage("Email is not a valid email address.");
            RuleFor(r => r.Code)
                .Cascade(CascadeMode.Stop)
                .NotEmpty().WithMessage("Code is required with an email.")
                .Must(AccountCodes.IsWellFormed).WithMessage($"Code must be the {AccountCodes.Length} digits from the mail.");
        });
        RuleFor(r => r.Password).PasswordLength();
        RuleFor(r => r.ConfirmPassword)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Confirm the password.")
            .Equal(r => r.Password).WithMessage("Passwords do not match.");
    }
}
