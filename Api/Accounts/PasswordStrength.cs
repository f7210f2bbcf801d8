namespace Accounts.Api.Accounts;

/// <summary>
/// How hard a password is to guess, by zxcvbn (0 to 4), counting the user's own username and
/// email as known words. One evaluator is reused: building its dictionaries costs ~150 ms.
/// </summary>
public sealed class PasswordStrength
{
    public const int MinimumScore = 2;

    private readonly Zxcvbn.Zxcvbn _zxcvbn = new();
    private readonly Lock _lock = new();

    public int Score(string password, params IEnumerable<string?> knownWords)
    {
        var words = knownWords
            .Where(w => !string.IsNullOrWhiteSpace(w))
            .SelectMany(w => w!.Split('@', '.', '_', '-').Append(w!))
            .Where(w => w.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToArray();

        // The evaluator keeps per-call state in its matchers, so calls take turns.
        lock (_lock)
        {
            return _zxcvbn.EvaluatePassword(password, words).Score;
        }
    }
}
