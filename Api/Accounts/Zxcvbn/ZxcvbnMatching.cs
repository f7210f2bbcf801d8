using System.Text.RegularExpressions;

namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// The reference's <c>matching</c> module: every dictionary, reversed, l33t, keyboard, repeat, sequence,
/// year and date reading of a password. Strings are UTF-16 as in JavaScript, so indexes and lengths
/// agree with the reference; JavaScript's regex classes are spelled out (<c>.</c> excludes every line
/// terminator, <c>\d</c> is ASCII only).
/// </summary>
internal sealed partial class ZxcvbnMatching(ZxcvbnData data, WordTrie userInputs, int referenceYear)
{
    private const int DateMinYear = 1000;
    private const int DateMaxYear = 2050;
    private const int MaxSequenceDelta = 5;

    private static readonly (char Letter, string Substitutes)[] L33tTable =
    [
        ('a', "4@"), ('b', "8"), ('c', "({[<"), ('e', "3"), ('g', "69"), ('i', "1!|"),
        ('l', "1|7"), ('o', "0"), ('s', "$5"), ('t', "+7"), ('x', "%"), ('z', "2"),
    ];

    /// <summary>For length-4 to -8 digit strings, where the second and third parts start.</summary>
    private static readonly Dictionary<int, (int K, int L)[]> DateSplits = new()
    {
        [4] = [(1, 2), (2, 3)],
        [5] = [(1, 3), (2, 3)],
        [6] = [(1, 2), (2, 4), (4, 5)],
        [7] = [(1, 3), (2, 3), (4, 5), (4, 6)],
        [8] = [(2, 4), (4, 6)],
    };

    private const string ShiftedCharacters = "~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"ZXCVBNM<>?";

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

    private List<ZxcvbnMatch> SpatialMatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();
        foreach (var graph in data.Graphs)
        {
            SpatialMatch(password, graph, matches);
        }

        return matches;
    }

    private static void SpatialMatch(string password, AdjacencyGraph graph, List<ZxcvbnMatch> matches)
    {
        var i = 0;
        while (i < password.Length - 1)
        {
            var j = i + 1;
            int? lastDirection = null;
            var turns = 0;
            var shiftedCount = graph.IsKeyboard && ShiftedCharacters.Contains(password[i], StringComparison.Ordinal) ? 1 : 0;
            while (true)
            {
                var found = false;
                if (j < password.Length && graph.Keys.TryGetValue(password[j - 1], out var adjacents))
                {
                    var current = password[j];
                    for (var direction = 0; direction < adjacents.Length; direction++)
                    {
                        var adjacent = adjacents[direction];
                        var at = adjacent?.IndexOf(current, StringComparison.Ordinal) ?? -1;
                        if (at == -1)
                        {
                            continue;
                        }

                        found = true;
                        if (at == 1)
                        {
                            shiftedCount++; // index 1 of a neighbour is its shifted character
                        }

                        if (lastDirection != direction)
                        {
                            turns++; // every pattern starts with a turn
                            lastDirection = direction;
                        }

                        break;
                    }
                }

                if (found)
                {
                    j++;
                    continue;
                }

                if (j - i > 2)
                {
                    matches.Add(new ZxcvbnMatch
                    {
                        Pattern = MatchPattern.Spatial,
                        I = i,
                        J = j - 1,
                        Token = password[i..j],
                        OnKeyboard = graph.IsKeyboard,
                        Turns = turns,
                        ShiftedCount = shiftedCount,
                    });
                }

                i = j;
                break;
            }
        }
    }

    private List<ZxcvbnMatch> RepeatMatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();
        var lastIndex = 0;
        while (lastIndex < password.Length)
        {
            var greedy = GreedyRepeat().Match(password, lastIndex);
            if (!greedy.Success)
            {
                break;
            }

            var lazy = LazyRepeat().Match(password, lastIndex);
            Match match;
            string baseToken;
            if (greedy.Length > lazy.Length)
            {
                // 'aabaab': greedy finds aab twice; its unit may itself repeat (aabaab in aabaabaabaab).
                match = greedy;
                baseToken = LazyAnchoredRepeat().Match(match.Value).Groups[1].Value;
            }
            else
            {
                // 'aaaaa': lazy finds the whole run of a.
                match = lazy;
                baseToken = match.Groups[1].Value;
            }

            var baseGuesses = new ZxcvbnScoring(data, referenceYear).MostGuessableMatchSequence(baseToken, Omnimatch(baseToken));
            matches.Add(new ZxcvbnMatch
            {
                Pattern = MatchPattern.Repeat,
                I = match.Index,
                J = match.Index + match.Length - 1,
                Token = match.Value,
                BaseGuesses = baseGuesses,
                RepeatCount = match.Length / baseToken.Length,
            });
            lastIndex = match.Index + match.Length;
        }

        return matches;
    }

    private static List<ZxcvbnMatch> SequenceMatch(string password)
    {
        var result = new List<ZxcvbnMatch>();
        if (password.Length == 1)
        {
            return result;
        }

        void Update(int i, int j, int delta)
        {
            if ((j - i > 1 || Math.Abs(delta) == 1) && Math.Abs(delta) is > 0 and <= MaxSequenceDelta)
            {
                result.Add(new ZxcvbnMatch
                {
                    Pattern = MatchPattern.Sequence,
                    I = i,
                    J = j,
                    Token = password[i..(j + 1)],
                    Ascending = delta > 0,
                });
            }
        }

        var start = 0;
        int? lastDelta = null;
        for (var k = 1; k < password.Length; k++)
        {
            var delta = password[k] - password[k - 1];
            lastDelta ??= delta;
            if (delta == lastDelta)
            {
                continue;
            }

            Update(start, k - 1, lastDelta.Value);
            start = k - 1;
            lastDelta = delta;
        }

        Update(start, password.Length - 1, lastDelta ?? 0);
        return result;
    }

    private static List<ZxcvbnMatch> RegexMatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();
        for (var match = RecentYear().Match(password); match.Success; match = match.NextMatch())
        {
            matches.Add(new ZxcvbnMatch
            {
                Pattern = MatchPattern.Regex,
                I = match.Index,
                J = match.Index + match.Length - 1,
                Token = match.Value,
                Year = int.Parse(match.Value, System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return matches;
    }

    private List<ZxcvbnMatch> DateMatch(string password)
    {
        var matches = new List<ZxcvbnMatch>();

        // Without separators: 4 ('1191') to 8 ('11111991') digits.
        for (var i = 0; i <= password.Length - 4; i++)
        {
            for (var j = i + 3; j <= i + 7 && j < password.Length; j++)
            {
                var token = password[i..(j + 1)];
                if (!IsAsciiDigits(token))
                {
                    continue;
                }

                (int Year, int Month, int Day)? best = null;
                var bestDistance = int.MaxValue;
                foreach (var (k, l) in DateSplits[token.Length])
                {
                    var date = MapIntsToDmy(ParseInt(token[..k]), ParseInt(token[k..l]), ParseInt(token[l..]));
                    // Of the readings of one substring, the year nearest the reference year ('111504': 2004, not 1504).
                    if (date is { } candidate && Math.Abs(candidate.Year - referenceYear) < bestDistance)
                    {
                        best = candidate;
                        bestDistance = Math.Abs(candidate.Year - referenceYear);
                    }
                }

                if (best is { } found)
                {
                    matches.Add(DateMatchOf(token, i, j, found.Year, separator: false));
                }
            }
        }

        // With separators: 6 ('1/1/91') to 10 ('11/11/1991') characters.
        for (var i = 0; i <= password.Length - 6; i++)
        {
            for (var j = i + 5; j <= i + 9 && j < password.Length; j++)
            {
                var token = password[i..(j + 1)];
                var parts = DateWithSeparator().Match(token);
                if (!parts.Success)
                {
                    continue;
                }

                var date = MapIntsToDmy(ParseInt(parts.Groups[1].Value), ParseInt(parts.Groups[3].Value), ParseInt(parts.Groups[4].Value));
                if (date is { } found)
                {
                    matches.Add(DateMatchOf(token, i, j, found.Year, separator: true));
                }
            }
        }

        // '2015_06_04' also holds 15_06_04, 5_06_04 …: keep only the dates no other date contains.
        return [.. matches.Where(m => !matches.Any(other => !ReferenceEquals(other, m) && other.I <= m.I && other.J >= m.J))];
    }

    private static ZxcvbnMatch DateMatchOf(string token, int i, int j, int year, bool separator) => new()
    {
        Pattern = MatchPattern.Date,
        I = i,
        J = j,
        Token = token,
        Year = year,
        HasSeparator = separator,
    };

    private static bool IsAsciiDigits(string token) => token.Length > 0 && token.All(char.IsAsciiDigit);

    private static int ParseInt(string digits) => int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A day, month and year read from three numbers, or null when they cannot be one.</summary>
    private static (int Year, int Month, int Day)? MapIntsToDmy(int first, int second, int third)
    {
        int[] ints = [first, second, third];
        if (second is > 31 or <= 0)
        {
            return null;
        }

        var over12 = 0;
        var over31 = 0;
        var under1 = 0;
        foreach (var value in ints)
        {
            if (value is > 99 and < DateMinYear || value > DateMaxYear)
            {
                return null;
            }

            over31 += value > 31 ? 1 : 0;
            over12 += value > 12 ? 1 : 0;
            under1 += value <= 0 ? 1 : 0;
        }

        if (over31 >= 2 || over12 == 3 || under1 >= 2)
        {
            return null;
        }

        (int Year, int A, int B)[] splits = [(third, first, second), (first, second, third)];
        foreach (var (year, a, b) in splits)
        {
            if (year is >= DateMinYear and <= DateMaxYear)
            {
                // A four-digit year whose rest is no day and month: not a date.
                return MapIntsToDm(a, b) is { } dm ? (year, dm.Month, dm.Day) : null;
            }
        }

        foreach (var (year, a, b) in splits)
        {
            if (MapIntsToDm(a, b) is { } dm)
            {
                return (TwoToFourDigitYear(year), dm.Month, dm.Day);
            }
        }

        return null;
    }

    private static (int Day, int Month)? MapIntsToDm(int a, int b)
    {
        foreach (var (day, month) in new[] { (a, b), (b, a) })
        {
            if (day is >= 1 and <= 31 && month is >= 1 and <= 12)
            {
                return (day, month);
            }
        }

        return null;
    }

    private static int TwoToFourDigitYear(int year) => year switch
    {
        > 99 => year,
        > 50 => year + 1900,
        _ => year + 2000,
    };

    [GeneratedRegex(@"([^\n\r\u2028\u2029]+)\1+", RegexOptions.CultureInvariant)]
    private static partial Regex GreedyRepeat();

    [GeneratedRegex(@"([^\n\r\u2028\u2029]+?)\1+", RegexOptions.CultureInvariant)]
    private static partial Regex LazyRepeat();

    [GeneratedRegex(@"^([^\n\r\u2028\u2029]+?)\1+\z", RegexOptions.CultureInvariant)]
    private static partial Regex LazyAnchoredRepeat();

    [GeneratedRegex("19[0-9][0-9]|200[0-9]|201[0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex RecentYear();

    // JavaScript's \s: white space and line terminators, including the Unicode spaces and U+FEFF.
    [GeneratedRegex(@"^([0-9]{1,4})([\s\uFEFF/\\_.-])([0-9]{1,2})\2([0-9]{1,4})\z", RegexOptions.CultureInvariant)]
    private static partial Regex DateWithSeparator();
}
