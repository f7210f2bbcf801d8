namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// The reference's <c>matching</c> module: every dictionary, reversed, l33t, keyboard, repeat, sequence,
/// year and date reading of a password. Strings are UTF-16 as in JavaScript, so indexes and lengths
/// agree with the reference; JavaScript's regex classes are spelled out (<c>.</c> excludes every line
/// terminator, <c>\d</c> is ASCII only).
/// </summary>
internal sealed partial class ZxcvbnMatching(ZxcvbnData data, WordTrie userInputs, int referenceYear)
{
    private static readonly (char Letter, string Substitutes)[] L33tTable =
    [
        ('a', "4@"), ('b', "8"), ('c', "({[<"), ('e', "3"), ('g', "69"), ('i', "1!|"),
        ('l', "1|7"), ('o', "0"), ('s', "$5"), ('t', "+7"), ('x', "%"), ('z', "2"),
    ];

    /// <summary>Every match, ordered by start then end.</summary>
    public List<ZxcvbnMatch> Omnimatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();
        matches.AddRange(DictionaryMatch(password));
        matches.AddRange(ReverseDictionaryMatch(password));
        matches.AddRange(L33tMatch(password));
        matches.AddRange(SpatialMatch(password));
        matches.AddRange(RepeatMatch(password));
        matches.AddRange(SequenceMatch(password));
        matches.AddRange(RegexMatch(password));
        matches.AddRange(DateMatch(password));
        return Sorted(matches);
    }

    private static List<ZxcvbnMatch> Sorted(List<ZxcvbnMatch> matches)
    {
        // A stable sort, as V8's Array.prototype.sort is.
        return [.. matches.OrderBy(m => m.I).ThenBy(m => m.J)];
    }

    /// <summary>Every word of the reference's lists, then of the user inputs, in <paramref name="password"/> lower-cased; tokens from <paramref name="original"/>.</summary>
    private List<ZxcvbnMatch> DictionaryMatch(string password, string? original = null)
    {
        var matches = new List<ZxcvbnMatch>();
        var lower = password.ToLowerInvariant();
        var state = (matches, token: original ?? password);
        data.Words.FindAll(lower, state, AddDictionaryMatch);
        userInputs.FindAll(lower, state, AddDictionaryMatch);
        return matches;
    }

    private static void AddDictionaryMatch((List<ZxcvbnMatch> Matches, string Token) state, int i, int j, int list, int rank) =>
        state.Matches.Add(new ZxcvbnMatch
        {
            Pattern = MatchPattern.Dictionary,
            I = i,
            J = j,
            Token = state.Token.Substring(i, j - i + 1),
            Rank = rank,
        });

    private List<ZxcvbnMatch> ReverseDictionaryMatch(string password)
    {
        var reversed = Reverse(password);
        var n = password.Length;
        return
        [
            .. DictionaryMatch(reversed).Select(m => new ZxcvbnMatch
            {
                Pattern = MatchPattern.Dictionary,
                I = n - 1 - m.J,
                J = n - 1 - m.I,
                Token = Reverse(m.Token),
                Rank = m.Rank,
                Reversed = true,
            }),
        ];
    }

    private static string Reverse(string value)
    {
        var characters = value.ToCharArray();
        Array.Reverse(characters);
        return new string(characters);
    }

    private List<ZxcvbnMatch> L33tMatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();
        foreach (var substitution in EnumerateL33tSubstitutions(RelevantL33tTable(password)))
        {
            if (substitution.Count == 0)
            {
                break; // the password has no character that could be a substitute
            }

            var translated = string.Create(password.Length, (password, substitution), static (span, state) =>
            {
                for (var k = 0; k < span.Length; k++)
                {
                    var c = state.password[k];
                    span[k] = state.substitution.TryGetValue(c, out var letter) ? letter : c;
                }
            });
            var translatedLower = translated.ToLowerInvariant();
            foreach (var match in DictionaryMatch(translated, original: password))
            {
                // Only matches that contain an actual substitution, and not single characters ('4' for 'a').
                if (match.Token.Length <= 1
                    || match.Token.ToLowerInvariant().AsSpan().SequenceEqual(translatedLower.AsSpan(match.I, match.J - match.I + 1)))
                {
                    continue;
                }

                var used = substitution.Where(s => match.Token.Contains(s.Key, StringComparison.Ordinal)).ToDictionary(s => s.Key, s => s.Value);
                matches.Add(new ZxcvbnMatch
                {
                    Pattern = MatchPattern.Dictionary,
                    I = match.I,
                    J = match.J,
                    Token = match.Token,
                    Rank = match.Rank,
                    L33tSubstitutions = used,
                });
            }
        }

        return matches;
    }

    /// <summary>The l33t table pruned to the substitutes the password contains.</summary>
    private static List<(char Letter, char[] Substitutes)> RelevantL33tTable(string password)
    {
        var table = new List<(char, char[])>();
        foreach (var (letter, substitutes) in L33tTable)
        {
            var relevant = substitutes.Where(s => password.Contains(s, StringComparison.Ordinal)).ToArray();
            if (relevant.Length > 0)
            {
                table.Add((letter, relevant));
            }
        }

        return table;
    }

    /// <summary>
    /// Every way of reading the substitutes as letters, each substitute standing for one letter, built
    /// as the reference builds them (key by key; a substitute already taken forks the list).
    /// </summary>
    private static List<Dictionary<char, char>> EnumerateL33tSubstitutions(List<(char Letter, char[] Substitutes)> table)
    {
        var subs = new List<List<(char Substitute, char Letter)>> { new() };
        foreach (var (letter, substitutes) in table)
        {
            var next = new List<List<(char, char)>>();
            foreach (var substitute in substitutes)
            {
                foreach (var sub in subs)
                {
                    var taken = sub.FindIndex(pair => pair.Substitute == substitute);
                    if (taken == -1)
                    {
                        next.Add([.. sub, (substitute, letter)]);
                    }
                    else
                    {
                        var alternative = new List<(char, char)>(sub);
                        alternative.RemoveAt(taken);
                        alternative.Add((substitute, letter));
                        next.Add(sub);
                        next.Add(alternative);
                    }
                }
            }

            // The reference drops exact duplicates (the same pairs in the same order).
            subs = [.. next.DistinctBy(sub => string.Concat(sub.Select(p => $"{p.Item1}{p.Item2}")))];
        }

        // Different orders can make the same mapping; one of each is enough (the same mapping finds the same matches).
        return [.. subs
            .Select(sub => sub.ToDictionary(p => p.Substitute, p => p.Letter))
            .DistinctBy(map => string.Concat(map.OrderBy(p => p.Key).Select(p => $"{p.Key}{p.Value}")))];
    }
}
