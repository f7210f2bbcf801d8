namespace Accounts.Api.Accounts.Zxcvbn;

internal enum MatchPattern
{
    Bruteforce,
    Dictionary,
    Spatial,
    Repeat,
    Sequence,
    Regex,
    Date,
}

/// <summary>
/// One way to read the slice <c>[I..J]</c> (inclusive, UTF-16 indexes as in JavaScript) of a password,
/// with what its pattern's guess estimate needs. Mutable only for <see cref="Guesses"/>, which the
/// search caches once estimated, as the reference does.
/// </summary>
internal sealed class ZxcvbnMatch
{
    public required MatchPattern Pattern { get; init; }

    public required int I { get; init; }

    public required int J { get; init; }

    public required string Token { get; init; }

    /// <summary>Dictionary: the word's rank in its list.</summary>
    public int Rank { get; init; }

    /// <summary>Dictionary: found in the reversed password.</summary>
    public bool Reversed { get; init; }

    /// <summary>Dictionary with l33t: substituted character → the letter it stands for, those the token uses.</summary>
    public IReadOnlyDictionary<char, char>? L33tSubstitutions { get; init; }

    /// <summary>Spatial: on a keyboard (not a keypad).</summary>
    public bool OnKeyboard { get; init; }

    public int Turns { get; init; }

    public int ShiftedCount { get; init; }

    /// <summary>Repeat: guesses of the repeated unit, and how many times it repeats.</summary>
    public double BaseGuesses { get; init; }

    public int RepeatCount { get; init; }

    /// <summary>Sequence: the code points rise.</summary>
    public bool Ascending { get; init; }

    /// <summary>Regex (recent_year) and date: the year.</summary>
    public int Year { get; init; }

    /// <summary>Date: written with a separator (1.1.91 rather than 1191).</summary>
    public bool HasSeparator { get; init; }

    /// <summary>The estimate, once made.</summary>
    public double? Guesses { get; set; }
}
