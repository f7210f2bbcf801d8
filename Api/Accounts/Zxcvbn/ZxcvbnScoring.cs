namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// The reference's <c>scoring</c> module: the guesses of each match, and the search for the sequence of
/// non-overlapping matches that covers the password with the fewest guesses,
/// <c>l! · Π guesses + 10000^(l−1)</c> for a sequence of length <c>l</c> (bruteforce fills the gaps).
/// Arithmetic is in doubles, as in JavaScript.
/// </summary>
internal sealed partial class ZxcvbnScoring(ZxcvbnData data, int referenceYear)
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
