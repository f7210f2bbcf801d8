using System.ComponentModel.DataAnnotations;
using Accounts.Api.Infrastructure;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>An email address, for the endpoints that mail a link to it.</summary>
public sealed record EmailRequest : INormalizable<EmailRequest>
{
    /// <summary>The account's email address.</summary>
    /// <example>alice@example.com</example>
    public string Email { get; init; } = "";

    /// <summary>The address trimmed and in Unicode normal form C; sent as null, it is empty.</summary>
    public EmailRequest Normalize() => this with { Email = Normalization.Clean(Email) ?? "" };
}

public sealed class EmailRequestValidator : AbstractValidator<EmailRequest>
{
    public EmailRequestValidator() =>
        RuleFor(r => r.Email)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Email is required.")
            .Must(EmailAddresses.IsValid).WithMessage("Email is not a valid email address.");
}

/// <summary>The answer of the endpoints that never tell whether an address has an account.</summary>
/// <param name="Status">Always <c>accepted</c>.</param>
public sealed record AcceptedResponse([property: AllowedValues("accepted")] string Status)
{
    public static readonly AcceptedResponse Instance = new("accepted");
}
