using System.ComponentModel.DataAnnotations;
using Accounts.Api.Infrastructure;

namespace Accounts.Api.Accounts;

/// <summary>A new account. Every field is checked and all problems are reported at once.</summary>
public sealed record RegisterRequest : INormalizable<RegisterRequest>
{
    /// <summary>3–32 letters (any script), digits, <c>_</c>, <c>.</c> or <c>-</c>; unique without regard to case.</summary>
    /// <example>alice</example>
    public string Username { get; init; } = "";

    /// <summary>Where the activation link is sent; at most 254 characters, unique without regard to case.</summary>
    /// <example>alice@example.com</example>
    public string Email { get; init; } = "";

    /// <summary>8–128 characters, not easily guessed (zxcvbn score 2 or more).</summary>
    /// <example>correct horse battery staple</example>
    public string Password { get; init; } = "";

    /// <summary>Must equal <c>password</c>.</summary>
    /// <example>correct horse battery staple</example>
    public string ConfirmPassword { get; init; } = "";

    /// <summary>Optional, an ISO date (<c>yyyy-MM-dd</c>) in the past.</summary>
    /// <example>1990-05-17</example>
    public string? Birthday { get; init; }

    /// <summary>Username and email trimmed and in Unicode normal form C, as they are stored; a field sent as null is empty.</summary>
    public RegisterRequest Normalize() => this with
    {
        Username = Normalization.Clean(Username) ?? "",
        Email = Normalization.Clean(Email) ?? "",
        Password = Password ?? "",
        ConfirmPassword = ConfirmPassword ?? "",
    };
}

/// <summary>The account was accepted and an activation link is on its way.</summary>
/// <param name="Username">The username as stored.</param>
/// <param name="Email">The address the link goes to.</param>
/// <param name="Status">Always <c>pending_activation</c>.</param>
public sealed record RegisterResponse(string Username, string Email, [property: AllowedValues(AccountStatus.PendingActivation)] string Status);
