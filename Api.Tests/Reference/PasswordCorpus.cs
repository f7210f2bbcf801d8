using System.Globalization;
using System.Text;
using Accounts.Api.Accounts.Zxcvbn;

namespace Accounts.Api.Tests.Reference;

/// <summary>One password to score, with the account it is registered for.</summary>
public sealed record PasswordSample(string Shape, string Password, string Username, string Email);

/// <summary>
/// A generated corpus of passwords people choose and attackers try, from a fixed seed: repeated
/// tokens, words, dates and sequences; keyboard walks; words with years, l33t and capitals; names
/// with birthdays; passwords made of the username or email; reversed words; passphrases; random
/// strings of every length the API takes (8–128); other scripts and emoji. Every one is 8 to 128
/// characters (code points), so the length rule never decides.
/// </summary>
public static class PasswordCorpus
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string Digits = "0123456789";
    private const string Symbols = "!@#$%^&*()-_=+[]{};:,.<>/?~";

    private static readonly string[] KeyboardRows =
        ["`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "1qaz2wsx3edc4rfv5tgb", "!@#$%^&*()_+", "7894561230", "qazwsxedcrfv", "',.pyfgcrl", "aoeuidhtns"];

    private static readonly string[] Domains = ["example.com", "mail.example.org", "corp.example.net", "example.cn"];

    private static readonly (char Letter, string Substitutes)[] L33t =
        [('a', "4@"), ('e', "3"), ('i', "1!"), ('o', "0"), ('s', "$5"), ('t', "7+"), ('l', "1|"), ('g', "9"), ('b', "8")];

    public static IReadOnlyList<PasswordSample> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var lists = ZxcvbnData.ReadLists();
        var pools = new Words(lists, random);
        var shapes = Shapes(pools);
        var samples = new List<PasswordSample>(count);
        for (var index = 0; index < count; index++)
        {
            var (shape, make) = shapes[index % shapes.Length];
            var (username, email) = Account(pools, index);
            samples.Add(new PasswordSample(shape, Fit(make(random, username, email), random), username, email));
        }

        return samples;
    }

    private delegate string Maker(Random random, string username, string email);

    private static (string Shape, Maker Make)[] Shapes(Words w) =>
    [
        ("repeated short token", (r, _, _) => Repeat(Random(r, Lower + Digits + Symbols, r.Next(1, 6)), r.Next(8, 41))),
        ("repeated letters pair", (r, _, _) => Repeat(Random(r, Lower, 2), r.Next(8, 33))),
        ("repeated word", (r, _, _) => Repeat(w.Common(), r.Next(2, 5), times: true)),
        ("repeated date", (r, _, _) => Repeat(Date(r), r.Next(1, 4), times: true)),
        ("repeated sequence", (r, _, _) => Repeat(Sequence(r), r.Next(10, 41))),
        ("keyboard walk", (r, _, _) => Walk(r)),
        ("keyboard walk with capitals", (r, _, _) => Capitalise(r, Walk(r))),
        ("word and year", (r, _, _) => Capitalise(r, w.Common()) + r.Next(1950, 2027) + (r.Next(3) == 0 ? "!" : "")),
        ("l33t word and digits", (r, _, _) => Leet(r, w.Common()) + Random(r, Digits, r.Next(0, 4))),
        ("l33t word and year", (r, _, _) => Leet(r, Capitalise(r, w.Common())) + r.Next(1970, 2027)),
        ("name and birthday", (r, _, _) => Capitalise(r, w.Name()) + (r.Next(2) == 0 ? "_" : "") + Date(r)),
        ("word and sequence", (r, _, _) => w.Common() + Sequence(r)[..r.Next(3, 8)]),
        ("username based", (r, u, _) => UserBased(r, u)),
        ("email based", (r, _, e) => r.Next(3) switch { 0 => e, 1 => e.Split('@')[0] + r.Next(1950, 2027), _ => Capitalise(r, e.Split('@')[0]) + "!" + r.Next(10, 99) }),
        ("reversed word", (r, _, _) => Reverse(w.Common()) + Random(r, Digits, r.Next(0, 5))),
        ("two words", (r, _, _) => w.Any() + (r.Next(2) == 0 ? "" : Random(r, " -_.", 1)) + w.Any()),
        ("passphrase", (r, _, _) => string.Join(Random(r, " -", 1), Enumerable.Range(0, r.Next(3, 6)).Select(_ => w.Any()))),
        ("word, digits and symbol", (r, _, _) => Capitalise(r, w.Any()) + Random(r, Digits, r.Next(1, 5)) + Random(r, Symbols, 1)),
        ("random lower", (r, _, _) => Random(r, Lower, r.Next(8, 14))),
        ("random digits", (r, _, _) => Random(r, Digits, r.Next(8, 16))),
        ("random mixed", (r, _, _) => Random(r, Lower + Lower.ToUpperInvariant() + Digits + Symbols, r.Next(8, 17))),
        ("long random", (r, _, _) => Random(r, Lower + Digits + Symbols + " ", r.Next(30, 129))),
        ("long repeat", (r, _, _) => Repeat(r.Next(2) == 0 ? w.Common() : Random(r, Lower, r.Next(1, 4)), 128)),
        ("common password", (r, _, _) => w.Password()),
        ("common password with suffix", (r, _, _) => w.Password() + Random(r, Digits + "!", r.Next(1, 4))),
        ("other scripts", (r, _, _) => OtherScript(r)),
        ("spaced letters", (r, _, _) => string.Join(' ', Random(r, Lower, r.Next(4, 9)).ToCharArray())),
        ("date with separators", (r, _, _) => Date(r, separator: Random(r, "/.-_ ", 1)) + Random(r, Lower, r.Next(0, 4))),
    ];

    private static (string Username, string Email) Account(Words words, int index)
    {
        var first = words.Name();
        var last = words.Surname();
        var username = $"{first}{(index % 3 == 0 ? "." : "_")}{last}{index}";
        username = username.Length > 32 ? username[^32..].TrimStart('_', '.', '-') : username;
        var email = $"{first}.{last}{index % 7}@{Domains[index % Domains.Length]}";
        return (username, email);
    }

    /// <summary>Brings a password to 8–128 code points without changing its shape much.</summary>
    private static string Fit(string password, Random random)
    {
        while (password.EnumerateRunes().Count() < 8)
        {
            password += Random(random, Digits, 1);
        }

        var runes = password.EnumerateRunes().ToArray();
        return runes.Length <= 128 ? password : string.Concat(runes[..128].Select(r => r.ToString()));
    }

    private static string Repeat(string unit, int length, bool times = false)
    {
        var builder = new StringBuilder();
        if (times)
        {
            for (var i = 0; i < length; i++)
            {
                builder.Append(unit);
            }

            return builder.ToString();
        }

        while (builder.Length < length)
        {
            builder.Append(unit);
        }

        return builder.ToString()[..length];
    }

    private static string Random(Random random, string alphabet, int length) =>
        string.Create(length, (random, alphabet), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = state.alphabet[state.random.Next(state.alphabet.Length)];
            }
        });

    private static string Date(Random random, string separator = "")
    {
        var date = new DateOnly(1950, 1, 1).AddDays(random.Next(0, 365 * 76));
        var format = random.Next(4) switch
        {
            0 => $"yyyy{separator}MM{separator}dd",
            1 => $"dd{separator}MM{separator}yyyy",
            2 => $"MM{separator}dd{separator}yy",
            _ => $"d{separator}M{separator}yy",
        };
        return date.ToString(format, CultureInfo.InvariantCulture);
    }

    private static string Sequence(Random random) => random.Next(4) switch
    {
        0 => "1234567890",
        1 => "abcdefghijklmnopqrstuvwxyz",
        2 => "9876543210",
        _ => "zyxwvutsrqponmlkjihgfedcba",
    };

    private static string Walk(Random random)
    {
        var row = KeyboardRows[random.Next(KeyboardRows.Length)];
        var start = random.Next(0, Math.Max(1, row.Length - 6));
        var piece = row[start..Math.Min(row.Length, start + random.Next(6, 13))];
        return random.Next(3) == 0 ? piece + piece : piece;
    }

    private static string Capitalise(Random random, string word) => random.Next(4) switch
    {
        0 => word,
        1 => char.ToUpperInvariant(word[0]) + word[1..],
        2 => word.ToUpperInvariant(),
        _ => string.Concat(word.Select(c => random.Next(3) == 0 ? char.ToUpperInvariant(c) : c)),
    };

    private static string Leet(Random random, string word) => string.Concat(word.Select(c =>
    {
        var entry = L33t.FirstOrDefault(e => e.Letter == char.ToLowerInvariant(c));
        return entry.Substitutes is { } substitutes && random.Next(3) != 0 ? substitutes[random.Next(substitutes.Length)] : c;
    }));

    private static string Reverse(string value)
    {
        var characters = value.ToCharArray();
        Array.Reverse(characters);
        return new string(characters);
    }

    private static string UserBased(Random random, string username) => random.Next(4) switch
    {
        0 => username + random.Next(0, 1000),
        1 => Capitalise(random, username) + "!",
        2 => Reverse(username),
        _ => username.Split('.', '_')[0] + username.Split('.', '_')[0] + random.Next(10, 99),
    };

    private static string OtherScript(Random random) => random.Next(5) switch
    {
        0 => string.Concat(Enumerable.Range(0, random.Next(4, 10)).Select(_ => (char)random.Next(0x4E00, 0x9FA6))),
        1 => "пароль" + random.Next(100, 10000),
        2 => string.Concat(Enumerable.Range(0, random.Next(3, 6)).Select(_ => char.ConvertFromUtf32(random.Next(0x1F600, 0x1F650)))) + "abc",
        3 => "密码" + random.Next(1000, 100000) + "mima",
        _ => "Ünïcödé" + Random(random, Lower, random.Next(2, 6)),
    };

    /// <summary>Words to build from: the reference's own lists, so dictionary shapes are the ones it knows.</summary>
    private sealed class Words(IReadOnlyDictionary<string, string[]> lists, Random random)
    {
        public string Common() => Pick("english_wikipedia", 3000, minLength: 4);

        public string Password() => Pick("passwords", 20000, minLength: 6);

        public string Name() => random.Next(2) == 0 ? Pick("female_names", 500, 3) : Pick("male_names", 500, 3);

        public string Surname() => Pick("surnames", 2000, 3);

        public string Any() => random.Next(3) switch
        {
            0 => Pick("english_wikipedia", 30000, 3),
            1 => Pick("us_tv_and_film", 19000, 3),
            _ => Pick("surnames", 10000, 3),
        };

        private string Pick(string list, int top, int minLength)
        {
            var words = lists[list];
            while (true)
            {
                var word = words[random.Next(Math.Min(top, words.Length))];
                if (word.Length >= minLength && word.All(char.IsAsciiLetterLower))
                {
                    return word;
                }
            }
        }
    }
}
