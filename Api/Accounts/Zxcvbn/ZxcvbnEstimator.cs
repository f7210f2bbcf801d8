namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// A port of Dropbox's zxcvbn 4.4.2 (<c>zxcvbn(password, user_inputs)</c>): how many guesses a
/// password takes, and the 0–4 score they give. The dictionaries and graphs are the reference's own
/// (<see cref="ZxcvbnData"/>); the tests score a generated corpus with the npm package and compare.
/// Stateless: every call has its own user-input dictionary, so calls run in parallel without a lock.
/// </summary>
internal static class ZxcvbnEstimator
{
    /// <summary>
    /// The guesses zxcvbn estimates. <paramref name="userInputs"/> are lower-cased and ranked in order
    /// (a repeated one keeps its last rank), as the reference does; <paramref name="referenceYear"/>
    /// is the reference's <c>new Date().getFullYear()</c>.
    /// </summary>
    public static double Guesses(string password, IEnumerable<string> userInputs, int referenceYear)
    {
        var data = ZxcvbnData.Instance;
        var inputs = new WordTrie([userInputs.Select(w => w.ToLowerInvariant())]);
        var matching = new ZxcvbnMatching(data, inputs, referenceYear);
        return new ZxcvbnScoring(data, referenceYear).MostGuessableMatchSequence(password, matching.Omnimatch(password));
    }

    /// <summary>The reference's <c>guesses_to_score</c>: 0 too guessable … 4 very unguessable.</summary>
    public static int Score(double guesses)
    {
        const double delta = 5;
        return guesses switch
        {
            < 1e3 + delta => 0,
            < 1e6 + delta => 1,
            < 1e8 + delta => 2,
            < 1e10 + delta => 3,
            _ => 4,
        };
    }
}
