using System.Text.RegularExpressions;

namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>The reference's keyboard, repeat, sequence and recent-year matchers.</summary>
internal sealed partial class ZxcvbnMatching
{
    private const int MaxSequenceDelta = 5;

    private const string ShiftedCharacters = "~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"ZXCVBNM<>?";

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

    [GeneratedRegex(@"([^\n\r\u2028\u2029]+)\1+", RegexOptions.CultureInvariant)]
    private static partial Regex GreedyRepeat();

    [GeneratedRegex(@"([^\n\r\u2028\u2029]+?)\1+", RegexOptions.CultureInvariant)]
    private static partial Regex LazyRepeat();

    [GeneratedRegex(@"^([^\n\r\u2028\u2029]+?)\1+\z", RegexOptions.CultureInvariant)]
    private static partial Regex LazyAnchoredRepeat();

    [GeneratedRegex("19[0-9][0-9]|200[0-9]|201[0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex RecentYear();
}
