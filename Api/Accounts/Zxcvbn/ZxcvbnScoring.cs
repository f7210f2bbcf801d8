namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// The reference's <c>scoring</c> module: the guesses of each match, and the search for the sequence of
/// non-overlapping matches that covers the password with the fewest guesses,
/// <c>l! · Π guesses + 10000^(l−1)</c> for a sequence of length <c>l</c> (bruteforce fills the gaps).
/// Arithmetic is in doubles, as in JavaScript.
/// </summary>
internal sealed class ZxcvbnScoring(ZxcvbnData data, int referenceYear)
{
    private const double BruteforceCardinality = 10;
    private const double MinGuessesBeforeGrowingSequence = 10000;
    private const double MinSubmatchGuessesSingleCharacter = 10;
    private const double MinSubmatchGuessesMultiCharacter = 50;
    private const int MinYearSpace = 20;

    /// <summary>The guesses of the best sequence (1 for an empty password).</summary>
    public double MostGuessableMatchSequence(string password, List<ZxcvbnMatch> matches)
    {
        var n = password.Length;
        if (n == 0)
        {
            return 1;
        }

        var matchesByJ = new List<ZxcvbnMatch>[n];
        for (var k = 0; k < n; k++)
        {
            matchesByJ[k] = [];
        }

        foreach (var match in matches)
        {
            matchesByJ[match.J].Add(match);
        }

        for (var k = 0; k < n; k++)
        {
            matchesByJ[k] = [.. matchesByJ[k].OrderBy(m => m.I)];
        }

        // For each prefix end k and sequence length l: the last match of the best such sequence, the
        // product of its guesses, and the whole measure. A length with no better sequence stays unset.
        var optimal = new Optimal(n);

        void Update(ZxcvbnMatch match, int length)
        {
            var k = match.J;
            var pi = EstimateGuesses(match, password);
            if (length > 1)
            {
                pi *= optimal.Pi[match.I - 1][length - 1];
            }

            var g = Factorial(length) * pi + LengthPenalty(length);
            // A sequence of this length or shorter that covers the same prefix as cheaply wins.
            if (optimal.LeastUpTo[k][length] <= g)
            {
                return;
            }

            optimal.Set(k, length, match, pi, g);
        }

        for (var k = 0; k < n; k++)
        {
            foreach (var match in matchesByJ[k])
            {
                if (match.I > 0)
                {
                    foreach (var length in optimal.Lengths(match.I - 1))
                    {
                        Update(match, length + 1);
                    }
                }
                else
                {
                    Update(match, 1);
                }
            }

            // Bruteforce over [0..k], or after any sequence ending before k that does not end in bruteforce
            // (two bruteforce matches side by side are never better than one spanning both).
            Update(Bruteforce(password, 0, k), 1);
            for (var i = 1; i <= k; i++)
            {
                var bruteforce = Bruteforce(password, i, k);
                foreach (var length in optimal.Lengths(i - 1))
                {
                    if (optimal.M[i - 1][length]!.Pattern != MatchPattern.Bruteforce)
                    {
                        Update(bruteforce, length + 1);
                    }
                }
            }
        }

        // The final sequence: the length with the fewest guesses over the whole password.
        var best = double.PositiveInfinity;
        var bestLength = 0;
        foreach (var length in optimal.Lengths(n - 1))
        {
            if (optimal.G[n - 1][length] < best)
            {
                best = optimal.G[n - 1][length];
                bestLength = length;
            }
        }

        return bestLength == 0 ? double.PositiveInfinity : optimal.G[n - 1][bestLength];
    }

    private static ZxcvbnMatch Bruteforce(string password, int i, int j) => new()
    {
        Pattern = MatchPattern.Bruteforce,
        I = i,
        J = j,
        Token = password[i..(j + 1)],
    };

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

    /// <summary>The search's tables, indexed [prefix end][sequence length].</summary>
    private sealed class Optimal
    {
        public Optimal(int n)
        {
            M = new ZxcvbnMatch?[n][];
            Pi = new double[n][];
            G = new double[n][];
            LeastUpTo = new double[n][];
            for (var k = 0; k < n; k++)
            {
                // A sequence covering [0..k] has at most k + 1 matches.
                M[k] = new ZxcvbnMatch?[k + 2];
                Pi[k] = new double[k + 2];
                G[k] = new double[k + 2];
                LeastUpTo[k] = new double[k + 2];
                Array.Fill(LeastUpTo[k], double.PositiveInfinity);
            }
        }

        public ZxcvbnMatch?[][] M { get; }

        public double[][] Pi { get; }

        public double[][] G { get; }

        /// <summary>The least measure of any sequence set at k of that length or shorter.</summary>
        public double[][] LeastUpTo { get; }

        public void Set(int k, int length, ZxcvbnMatch match, double pi, double g)
        {
            M[k][length] = match;
            Pi[k][length] = pi;
            G[k][length] = g;
            var least = LeastUpTo[k];
            for (var l = length; l < least.Length && g < least[l]; l++)
            {
                least[l] = g;
            }
        }

        /// <summary>The lengths set at k, shortest first (JavaScript's order for integer keys).</summary>
        public IEnumerable<int> Lengths(int k)
        {
            for (var length = 1; length < M[k].Length; length++)
            {
                if (M[k][length] is not null)
                {
                    yield return length;
                }
            }
        }
    }
}
