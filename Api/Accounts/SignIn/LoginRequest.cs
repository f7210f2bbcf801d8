using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>Credentials: a username or an email, and the password.</summary>
public sealed record LoginRequest : INormalizable<LoginRequest>
{
    /// <summary>The username or the email address.</summary>
    /// <example>alice</example>
    public string Login { get; init; } = "";

    /// <example>correct horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>The login trimmed and in Unicode normal form C, as usernames and emails are stored; a field sent as null is empty.</summary>
    public LoginRequest Normalize() => this with { Login = Normalization.Clean(Login) ?? "", Password = Password ?? "" };
}

public sealed class LoginRequestValidator : AbstractValidator<LoginRequest>
{
    public LoginRequestValidator()
    {
        RuleFor(r => r.Login)
            .NotEmpty().WithMessage("Login is required: a username or an email address.")
            .MaximumLength(EmailAddresses.MaxLength).WithMessage($"Login must be at most {EmailAddresses.MaxLength} characters long.")
            // No username or email has one, and PostgreSQL text cannot hold U+0000.
            .Must(login => !login.Any(char.IsControl)).WithMessage("Login must not contain control characters.");
        RuleFor(r => r.Password)
            .NotEmpty().WithMessage("Password is required.")
            .MaximumLength(1024).WithMessage("Password must be at most 1024 characters long.");
    }
}
