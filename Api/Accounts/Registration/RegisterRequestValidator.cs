using System.Globalization;
using System.Text;
using FluentValidation;

namespace Accounts.Api.Accounts;

/// <summary>The registration field rules of the HTTP contract.</summary>
public sealed class RegisterRequestValidator : AbstractValidator<RegisterRequest>
{
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 32;
    /// <summary>The earliest birthday taken as real.</summary>
    public static readonly DateOnly EarliestBirthday = new(1900, 1, 1);

    public RegisterRequestValidator(PasswordStrength strength, TimeProvider time)
    {
        RuleFor(r => r.Username)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Username is required.")
            .Must(u => PasswordRules.CountCharacters(u) is >= UsernameMinLength and <= UsernameMaxLength)
            .WithMessage($"Username must be {UsernameMinLength} to {UsernameMaxLength} characters long.")
            .Must(IsUsernameText)
            .WithMessage("Username may contain only letters, digits, '_', '.' and '-'.")
            .Must(StartsWithLetterOrDigit)
            .WithMessage("Username must start with a letter or a digit.");

        RuleFor(r => r.Email)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Email is required.")
            .MaximumLength(EmailAddresses.MaxLength).WithMessage($"Email must be at most {EmailAddresses.MaxLength} characters long.")
            .Must(EmailAddresses.IsValid).WithMessage("Email is not a valid email address.");

        RuleFor(r => r.Password)
            .PasswordLength()
            .Must((request, password) => strength.IsStrongEnough(password, request.Username, request.Email))
            .WithMessage(PasswordRules.TooWeakMessage);

        RuleFor(r => r.ConfirmPassword)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Confirm the password.")
            .Equal(r => r.Password).WithMessage("Passwords do not match.");

        RuleFor(r => r.Birthday)
            .Cascade(CascadeMode.Stop)
            .Must(b => TryParseDate(b, out _)).WithMessage("Birthday must be a date in the form yyyy-MM-dd.")
            .Must(b => TryParseDate(b, out var date) && date < DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime))
            .WithMessage("Birthday must be in the past.")
            .Must(b => TryParseDate(b, out var date) && date >= EarliestBirthday)
            .WithMessage($"Birthday must not be before {EarliestBirthday:yyyy-MM-dd}.")
            .When(r => r.Birthday is not null);
    }

    /// <summary>Parses an ISO calendar date, <c>yyyy-MM-dd</c> and nothing else.</summary>
    public static bool TryParseDate(string? value, out DateOnly date) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    /// <summary>A combining mark or punctuation cannot begin a name.</summary>
    private static bool StartsWithLetterOrDigit(string value) =>
        Rune.DecodeFromUtf16(value, out var first, out _) == System.Buffers.OperationStatus.Done
        && (Rune.IsLetter(first) || Rune.IsDigit(first));

    /// <summary>
    /// Letters of any script (with their combining marks), decimal digits, '_', '.', '-'. Checked per
    /// code point, so letters outside the Basic Multilingual Plane (CJK Extension B) count as letters;
    /// a lone surrogate is not a letter.
    /// </summary>
    private static bool IsUsernameText(string value)
    {
        if (!Normalization.IsWellFormed(value))
        {
            return false;
        }

        foreach (var rune in value.EnumerateRunes())
        {
            var allowed = rune.Value is '_' or '.' or '-' || Rune.GetUnicodeCategory(rune) switch
            {
                UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                    or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                    or UnicodeCategory.DecimalDigitNumber => true,
                _ => false,
            };
            if (!allowed)
            {
                return false;
            }
        }

        return true;
    }
}
