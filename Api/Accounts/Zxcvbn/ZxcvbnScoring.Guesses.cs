namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>The reference's guess estimators, one per kind of match, and the variations (case, l33t) they multiply by.</summary>
internal sealed partial class ZxcvbnScoring
{
    private double EstimateGuesses(ZxcvbnMatch match, string password)
    {
        if (match.Guesses is { } cached)
        {
            return cached;
        }

        var minimum = 1d;
        if (match.Token.Length < password.Length)
        {
            minimum = match.Token.Length == 1 ? MinSubmatchGuessesSingleCharacter : MinSubmatchGuessesMultiCharacter;
        }

        var guesses = match.Pattern switch
        {
            MatchPattern.Bruteforce => BruteforceGuesses(match),
            MatchPattern.Dictionary => DictionaryGuesses(match),
            MatchPattern.Spatial => SpatialGuesses(match),
            MatchPattern.Repeat => match.BaseGuesses * match.RepeatCount,
            MatchPattern.Sequence => SequenceGuesses(match),
            MatchPattern.Regex => Math.Max(Math.Abs(match.Year - referenceYear), MinYearSpace),
            MatchPattern.Date => DateGuesses(match),
            _ => throw new ArgumentOutOfRangeException(nameof(match), match.Pattern, "Unknown pattern."),
        };
        match.Guesses = Math.Max(guesses, minimum);
        return match.Guesses.Value;
    }

    private static double BruteforceGuesses(ZxcvbnMatch match)
    {
        var guesses = Math.Pow(BruteforceCardinality, match.Token.Length);
        if (double.IsPositiveInfinity(guesses))
        {
            guesses = double.MaxValue;
        }

        // One more than the least a submatch may count, so another reading of the same slice wins.
        var minimum = match.Token.Length == 1 ? MinSubmatchGuessesSingleCharacter + 1 : MinSubmatchGuessesMultiCharacter + 1;
        return Math.Max(guesses, minimum);
    }

    private static double SequenceGuesses(ZxcvbnMatch match)
    {
        var first = match.Token[0];
        double guesses = first switch
        {
            'a' or 'A' or 'z' or 'Z' or '0' or '1' or '9' => 4, // obvious starting points
            _ when char.IsAsciiDigit(first) => 10,
            _ => 26,
        };
        if (!match.Ascending)
        {
            guesses *= 2;
        }

        return guesses * match.Token.Length;
    }

    private double DateGuesses(ZxcvbnMatch match)
    {
        var guesses = Math.Max(Math.Abs(match.Year - referenceYear), MinYearSpace) * 365d;
        return match.HasSeparator ? guesses * 4 : guesses;
    }

    private double SpatialGuesses(ZxcvbnMatch match)
    {
        var (starts, degree) = match.OnKeyboard
            ? (data.KeyboardStartingPositions, data.KeyboardAverageDegree)
            : (data.KeypadStartingPositions, data.KeypadAverageDegree);
        var guesses = 0d;
        var length = match.Token.Length;
        // Patterns of this length or shorter with this many turns or fewer.
        for (var i = 2; i <= length; i++)
        {
            var possibleTurns = Math.Min(match.Turns, i - 1);
            for (var j = 1; j <= possibleTurns; j++)
            {
                guesses += NChooseK(i - 1, j - 1) * starts * Math.Pow(degree, j);
            }
        }

        if (match.ShiftedCount > 0)
        {
            guesses *= Variations(match.ShiftedCount, length - match.ShiftedCount);
        }

        return guesses;
    }

    private static double DictionaryGuesses(ZxcvbnMatch match)
    {
        var guesses = match.Rank * UppercaseVariations(match.Token) * L33tVariations(match);
        return match.Reversed ? guesses * 2 : guesses;
    }

    private static double UppercaseVariations(string word)
    {
        var upper = word.Count(char.IsAsciiLetterUpper);
        var lower = word.Count(char.IsAsciiLetterLower);
        if (upper == 0 || word.AsSpan().SequenceEqual(word.ToLowerInvariant()))
        {
            return 1; // all lower case
        }

        // Capitalised, upper case at the end, or all upper case: common enough to count as a doubling.
        var startUpper = char.IsAsciiLetterUpper(word[0]) && upper == 1 && word.Length > 1;
        var endUpper = char.IsAsciiLetterUpper(word[^1]) && upper == 1 && word.Length > 1;
        if (startUpper || endUpper || lower == 0)
        {
            return 2;
        }

        var variations = 0d;
        for (var i = 1; i <= Math.Min(upper, lower); i++)
        {
            variations += NChooseK(upper + lower, i);
        }

        return variations;
    }

    private static double L33tVariations(ZxcvbnMatch match)
    {
        if (match.L33tSubstitutions is not { } substitutions)
        {
            return 1;
        }

        var variations = 1d;
        var token = match.Token.ToLowerInvariant();
        foreach (var (substitute, letter) in substitutions)
        {
            variations *= Variations(token.Count(c => c == substitute), token.Count(c => c == letter));
        }

        return variations;
    }

    /// <summary>
    /// Ways to vary s of s+u characters (shifted keys, l33t substitutes): doubled when all or none are,
    /// else the sum of C(s+u, i) for i up to the smaller count.
    /// </summary>
    private static double Variations(int s, int u)
    {
        if (s == 0 || u == 0)
        {
            return 2;
        }

        var variations = 0d;
        for (var i = 1; i <= Math.Min(s, u); i++)
        {
            variations += NChooseK(s + u, i);
        }

        return variations;
    }

    private static double NChooseK(double n, double k)
    {
        if (k > n)
        {
            return 0;
        }

        if (k == 0)
        {
            return 1;
        }

        var r = 1d;
        for (var d = 1; d <= k; d++)
        {
            r *= n;
            r /= d;
            n--;
        }

        return r;
    }

    /// <summary>n!, as the reference multiplies it out (tabled: the search asks for it at every step).</summary>
    private static double Factorial(int n) => n < Factorials.Length ? Factorials[n] : double.PositiveInfinity;

    /// <summary>10000^(l−1): an attacker tries shorter sequences first.</summary>
    private static double LengthPenalty(int length) =>
        length - 1 < Penalties.Length ? Penalties[length - 1] : double.PositiveInfinity;

    // 170! is the largest factorial a double holds; 10000^77 the largest power.
    private static readonly double[] Factorials = [.. Enumerable.Range(0, 171).Select(n =>
    {
        var f = 1d;
        for (var i = 2; i <= n; i++)
        {
            f *= i;
        }

        return f;
    })];

    private static readonly double[] Penalties = [.. Enumerable.Range(0, 78).Select(e => Math.Pow(MinGuessesBeforeGrowingSequence, e))];
}
