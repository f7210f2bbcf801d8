using Accounts.Api.Accounts.Zxcvbn;

namespace Accounts.Api.Accounts;

/// <summary>
/// How hard a password is to guess: the zxcvbn score (0 to 4) of the reference implementation
/// (<see cref="ZxcvbnEstimator"/>, a port of zxcvbn 4.4.2 with its own dictionaries), counting the
/// user's own username and email as known words. Thread-safe and lock-free.
/// </summary>
public sealed class PasswordStrength(TimeProvider time)
{
    public const int MinimumScore = 2;

    /// <summary>
    /// The score. Known words are each one given, then its parts split at <c>@ . _ - +</c>
    /// (<c>alice.smith@example.com</c> also makes <c>alice</c>, <c>smith</c>, <c>example</c>, <c>com</c>),
    /// lower-cased, first occurrence kept.
    /// </summary>
    public int Score(string password, params IEnumerable<string?> knownWords) =>
        ZxcvbnEstimator.Score(ZxcvbnEstimator.Guesses(password, KnownWords(knownWords), time.GetUtcNow().Year));

    /// <summary>The user inputs handed to zxcvbn for these known words.</summary>
    public static IReadOnlyList<string> KnownWords(IEnumerable<string?> knownWords)
    {
        var given = knownWords.Where(w => !string.IsNullOrWhiteSpace(w)).Select(w => w!).ToArray();
        return [.. given
            .Concat(given.SelectMany(w => w.Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries)))
            .Select(w => w.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)];
    }

    private static readonly char[] WordSeparators = ['@', '.', '_', '-', '+'];
}
