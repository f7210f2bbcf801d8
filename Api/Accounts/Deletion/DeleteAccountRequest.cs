using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>The signed-in account's password, to erase the account.</summary>
public sealed record DeleteAccountRequest : INormalizable<DeleteAccountRequest>
{
    /// <summary>The account's password.</summary>
    /// <example>correct horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>The password exactly as sent; null made empty.</summary>
    public DeleteAccountRequest Normalize() => this with { Password = Password ?? "" };
}

public sealed class DeleteAccountRequestValidator : AbstractValidator<DeleteAccountRequest>
{
    public DeleteAccountRequestValidator() =>
        RuleFor(r => r.Password).NotEmpty().WithMessage("Password is required.");
}
