using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Accounts.Api.Accounts;
using Accounts.Api.Accounts.Zxcvbn;
using Accounts.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Accounts.Api.Tests.Reference;

/// <summary>
/// "Not easily guessed" measured against the reference: Dropbox's zxcvbn, the npm package pinned in
/// <c>Api.Tests/Node</c>, run under Node.js on a generated corpus, with the username and email as known words.
/// </summary>
public sealed class PasswordStrengthReferenceTests(PasswordStrengthReferenceTests.ScoredCorpus scored, ITestOutputHelper output)
    : IClassFixture<PasswordStrengthReferenceTests.ScoredCorpus>
{
    private const int Seed = 20261203;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>The corpus and the reference's scores of it, made once for the class (Node scores a few hundred a second).</summary>
    public sealed class ScoredCorpus : IAsyncLifetime
    {
        public IReadOnlyList<PasswordSample> Samples { get; } = PasswordCorpus.Generate(1200, Seed);

        public IReadOnlyList<ReferenceScore> Reference { get; private set; } = [];

        public async Task InitializeAsync() => Reference = await ScoreWithReferenceAsync(Samples);

        public Task DisposeAsync() => Task.CompletedTask;
    }

    [Fact]
    public async Task The_embedded_word_lists_and_keyboard_graphs_are_the_reference_packages_own()
    {
        using var reference = JsonDocument.Parse(await NodeTools.RunAsync("zxcvbn-data.mjs", "", TimeSpan.FromMinutes(1)));

        var lists = ZxcvbnData.ReadLists();
        var referenceLists = reference.RootElement.GetProperty("lists");
        Assert.Equal(
            referenceLists.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
            lists.Keys.Order(StringComparer.Ordinal));
        foreach (var list in referenceLists.EnumerateObject())
        {
            Assert.Equal(list.Value.EnumerateArray().Select(w => w.GetString()!), lists[list.Name]);
        }

        var graphs = ZxcvbnData.ReadGraphs();
        var referenceGraphs = reference.RootElement.GetProperty("graphs");
        Assert.Equal(referenceGraphs.EnumerateObject().Count(), graphs.Count);
        foreach (var graph in referenceGraphs.EnumerateObject())
        {
            var keys = graph.Value.EnumerateObject().ToDictionary(k => k.Name, k => k.Value.EnumerateArray().Select(n => n.GetString()).ToArray());
            Assert.Equal(keys.Keys.Order(StringComparer.Ordinal), graphs[graph.Name].Keys.Order(StringComparer.Ordinal));
            foreach (var (key, neighbours) in keys)
            {
                Assert.Equal(neighbours, graphs[graph.Name][key]);
            }
        }
    }

    [Fact]
    public void The_port_scores_a_generated_corpus_as_the_reference_zxcvbn_does()
    {
        var (corpus, reference) = (scored.Samples, scored.Reference);
        var strength = new PasswordStrength(TimeProvider.System);

        var sameScore = 0;
        var sameGuesses = 0;
        var differences = new List<string>();
        for (var i = 0; i < corpus.Count; i++)
        {
            var sample = corpus[i];
            var guesses = ZxcvbnEstimator.Guesses(sample.Password, PasswordStrength.KnownWords([sample.Username, sample.Email]), DateTime.UtcNow.Year);
            var score = strength.Score(sample.Password, sample.Username, sample.Email);
            sameScore += score == reference[i].Score ? 1 : 0;
            var close = Math.Abs(Math.Log10(guesses) - Math.Log10(reference[i].Guesses)) < 1e-9;
            sameGuesses += close ? 1 : 0;
            if (!close && differences.Count < 20)
            {
                differences.Add($"  {sample.Shape}: {JsonSerializer.Serialize(sample.Password)} ours {guesses:G6} (score {score}), reference {reference[i].Guesses:G6} (score {reference[i].Score})");
            }
        }

        output.WriteLine($"zxcvbn port against zxcvbn 4.4.2 on {corpus.Count} generated passwords (seed {Seed}):");
        output.WriteLine($"  same score: {sameScore} ({Percent(sameScore, corpus.Count)}); same guesses: {sameGuesses} ({Percent(sameGuesses, corpus.Count)})");
        differences.ForEach(output.WriteLine);
        // A faithful port: every guess count the same, hence every score.
        Assert.True(sameGuesses == corpus.Count, $"{corpus.Count - sameGuesses} passwords got other guesses than the reference:\n{string.Join('\n', differences)}");
    }

    [Fact]
    public async Task Register_accepts_and_refuses_passwords_as_the_reference_zxcvbn_scores_them()
    {
        var corpus = scored.Samples.Take(500).ToList();
        var reference = scored.Reference;
        await using var app = TestApp.Start(smtp: null);

        var decisions = new bool[corpus.Count];
        await Parallel.ForAsync(0, corpus.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancellation) =>
        {
            var sample = corpus[i];
            using var response = await app.RegisterAsync(sample.Username, sample.Email, sample.Password);
            decisions[i] = response.StatusCode switch
            {
                HttpStatusCode.Accepted => true,
                HttpStatusCode.BadRequest => await RefusedForPasswordOnlyAsync(response, sample),
                var other => throw new InvalidOperationException($"{sample.Shape} {JsonSerializer.Serialize(sample.Password)}: {(int)other} {await response.Content.ReadAsStringAsync(cancellation)}"),
            };
        });

        var weakAccepted = corpus.Where((_, i) => decisions[i] && reference[i].Score < PasswordStrength.MinimumScore).ToList();
        var strongRefused = corpus.Where((_, i) => !decisions[i] && reference[i].Score >= PasswordStrength.MinimumScore).ToList();
        var agree = corpus.Count - weakAccepted.Count - strongRefused.Count;
        var weak = reference.Take(corpus.Count).Count(r => r.Score < PasswordStrength.MinimumScore);
        output.WriteLine($"POST /register against zxcvbn 4.4.2 (score >= {PasswordStrength.MinimumScore}) on {corpus.Count} generated passwords (seed {Seed}, {weak} scored below {PasswordStrength.MinimumScore}):");
        output.WriteLine($"  agreement: {agree} of {corpus.Count} ({Percent(agree, corpus.Count)}); weak accepted: {weakAccepted.Count}; strong refused: {strongRefused.Count}");
        foreach (var sample in weakAccepted.Concat(strongRefused).Take(20))
        {
            output.WriteLine($"  disagree: {sample.Shape}: {JsonSerializer.Serialize(sample.Password)}");
        }

        Assert.InRange(weak, corpus.Count / 4, corpus.Count * 3 / 4); // both sides of the line are well represented
        Assert.True(agree >= corpus.Count * 0.97, $"Only {Percent(agree, corpus.Count)} of the decisions agree with the reference.");
    }

    [Fact]
    public async Task Scoring_in_parallel_gives_the_same_scores_as_one_at_a_time()
    {
        var corpus = PasswordCorpus.Generate(400, Seed + 2);
        var strength = new PasswordStrength(TimeProvider.System);
        var sequential = corpus.Select(s => strength.Score(s.Password, s.Username, s.Email)).ToArray();

        var parallel = new int[corpus.Count];
        await Parallel.ForAsync(0, corpus.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (i, _) =>
        {
            parallel[i] = strength.Score(corpus[i].Password, corpus[i].Username, corpus[i].Email);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(sequential, parallel);
    }

    private static async Task<bool> RefusedForPasswordOnlyAsync(HttpResponseMessage response, PasswordSample sample)
    {
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        var errors = problem?["errors"]?.AsObject() ?? throw new InvalidOperationException($"A 400 without errors: {problem}");
        Assert.True(
            errors.Count == 1 && errors.ContainsKey("password"),
            $"{sample.Shape} {JsonSerializer.Serialize(sample.Password)} for {sample.Username}: refused for {problem}");
        return false;
    }

    private static async Task<IReadOnlyList<ReferenceScore>> ScoreWithReferenceAsync(IReadOnlyList<PasswordSample> corpus)
    {
        var input = JsonSerializer.Serialize(corpus.Select(s => new { password = s.Password, username = s.Username, email = s.Email }));
        var scores = JsonSerializer.Deserialize<ReferenceScore[]>(
            // Seconds alone; the bound is for a machine busy with the rest of the run.
            await NodeTools.RunAsync("zxcvbn-score.mjs", input, TimeSpan.FromMinutes(5)),
            Web)!;
        Assert.Equal(corpus.Count, scores.Length);
        return scores;
    }

    private static string Percent(int part, int whole) => ((double)part / whole).ToString("P1", CultureInfo.InvariantCulture);

    public sealed record ReferenceScore(int Score, double Guesses);
}
