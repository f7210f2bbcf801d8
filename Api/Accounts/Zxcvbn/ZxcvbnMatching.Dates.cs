using System.Text.RegularExpressions;

namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>The reference's date matcher: digits with and without separators, read as day, month and year.</summary>
internal sealed partial class ZxcvbnMatching
{
    private const int DateMinYear = 1000;
    private const int DateMaxYear = 2050;

    /// <summary>For length-4 to -8 digit strings, where the second and third parts start.</summary>
    private static readonly Dictionary<int, (int K, int L)[]> DateSplits = new()
    {
        [4] = [(1, 2), (2, 3)],
        [5] = [(1, 3), (2, 3)],
        [6] = [(1, 2), (2, 4), (4, 5)],
        [7] = [(1, 3), (2, 3), (4, 5), (4, 6)],
        [8] = [(2, 4), (4, 6)],
    };

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

    // JavaScript's \s: white space and line terminators, including the Unicode spaces and U+FEFF.
    [GeneratedRegex(@"^([0-9]{1,4})([\s\uFEFF/\\_.-])([0-9]{1,2})\2([0-9]{1,4})\z", RegexOptions.CultureInvariant)]
    private static partial Regex DateWithSeparator();
}
