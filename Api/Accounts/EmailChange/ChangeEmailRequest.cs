using System.ComponentModel.DataAnnotations;
using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>The address to move the signed-in account to, and its password.</summary>
public sealed record ChangeEmailRequest : INormalizable<ChangeEmailRequest>
{
    /// <summary>The new address: it gets a link and a code; nothing changes until one of them is used.</summary>
    /// <example>alice.new@example.com</example>
    public string Email { get; init; } = "";

    /// <summary>The account's password.</summary>
    /// <example>correct horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>The address trimmed and in Unicode normal form C; the password exactly as sent.</summary>
    public ChangeEmailRequest Normalize() => this with { Email = Normalization.Clean(Email) ?? "", Password = Password ?? "" };
}

public sealed class ChangeEmailRequestValidator : AbstractValidator<ChangeEmailRequest>
{
    public ChangeEmailRequestValidator()
    {
        RuleFor(r => r.Email)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Email is required.")
            .Must(EmailAddresses.IsValid).WithMessage("Email is not a valid email address.");
        RuleFor(r => r.Password).NotEmpty().WithMessage("Password is required.");
    }
}

/// <summary>A token from the email-change link, or the new address and the code mailed to it.</summary>
public sealed record ConfirmEmailRequest
{
    /// <summary>The 43-character token from the link. Send it, or <c>email</c> and <c>code</c>.</summary>
    /// <example>q5V2mXk0c7a8J1yq3sWmP4oT9bE6uR2nL0dF8hG5kZw</example>
    public string? Token { get; init; }

    /// <summary>With <c>code</c>: the new address, where the mail went.</summary>
    /// <example>alice.new@example.com</example>
    public string? Email { get; init; }

    /// <summary>With <c>email</c>: the 6-digit code from the mail.</summary>
    /// <example>042917</example>
    public string? Code { get; init; }
}

/// <summary>The answer of <c>POST /me/email</c>.</summary>
/// <param name="Status">Always <c>pending_confirmation</c>: nothing changes until the new address is confirmed.</param>
public sealed record ChangeEmailResponse([property: AllowedValues("pending_confirmation")] string Status);

/// <summary>The account's address changed.</summary>
/// <param name="Status">Always <c>email_changed</c>.</param>
/// <param name="Email">The account's address now; it signs in with this one only.</param>
public sealed record EmailChangedResponse([property: AllowedValues("email_changed")] string Status, string Email);
