using System.Text;

namespace Accounts.Api.Accounts;

/// <summary>
/// Usernames and emails are stored as typed (in Unicode normal form C) and compared through a
/// key: compatibility-normalized (NFKC, so full-width "ａｌｉｃｅ" meets "alice") and case-folded.
/// The unique indexes are on the keys.
/// </summary>
public static class Normalization
{
    /// <summary>The form a value is stored and shown in: trimmed, NFC. Ill-formed UTF-16 is left for validation to reject.</summary>
    public static string? Clean(string? value)
    {
        var trimmed = value?.Trim();
        return trimmed is not null && IsWellFormed(trimmed) ? trimmed.Normalize(NormalizationForm.FormC) : trimmed;
    }

    /// <summary>False when the string holds a lone surrogate, which no normalization or encoding can carry.</summary>
    public static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The form a value is compared in: NFKC, upper-cased without regard to culture.</summary>
    public static string Key(string value) => IsWellFormed(value)
        ? value.Normalize(NormalizationForm.FormKC).ToUpperInvariant().Normalize(NormalizationForm.FormKC)
        : value.ToUpperInvariant();
}
