using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>
/// What makes a password acceptable, wherever one is chosen (registration, reset): 8–128
/// characters, counted as a person counts them, and a zxcvbn score of at least
/// <see cref="PasswordStrength.MinimumScore"/> with the account's username and email as known words.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 8;
    public const int MaxLength = 128;

    public const string TooWeakMessage = "Password is too easy to guess: use a longer phrase, and not your username or email.";

    /// <summary>Required, and 8–128 characters long.</summary>
    public static IRuleBuilderOptions<T, string> PasswordLength<T>(this IRuleBuilderInitial<T, string> rule) =>
        rule.Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Password is required.")
            .Must(p => CountCharacters(p) is >= MinLength and <= MaxLength)
            .WithMessage($"Password must be {MinLength} to {MaxLength} characters long.");

    /// <summary>Not easily guessed, knowing the account's username and email.</summary>
    public static bool IsStrongEnough(this PasswordStrength strength, string password, string username, string email) =>
        strength.Score(password, username, email) >= PasswordStrength.MinimumScore;

    /// <summary>Characters as a person counts them: Unicode code points, not UTF-16 units (an emoji or a rare CJK character is one).</summary>
    public static int CountCharacters(string value) => value.EnumerateRunes().Count();
}
