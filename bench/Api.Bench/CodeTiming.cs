using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using static Accounts.Bench.Requests;

namespace Accounts.Bench;

/// <summary>
/// Issue 15's "every failure answers the same 400 code_invalid … in about the same time": each code
/// endpoint is sent wrong codes for addresses that have a live code and for addresses that have
/// nothing, one request at a time, the cases interleaved in a fresh random order every round so
/// drift and noise fall on all of them alike. Prints each case's latency and, per endpoint, the
/// difference of the medians. Run: <c>dotnet run -c Release --project bench/Api.Bench -- --only codes</c>.
/// </summary>
public static class CodeTiming
{
    private const string Password = "correct horse battery staple";

    public static async Task RunAsync(string apiDll, bool quick)
    {
        const int accounts = 50;
        var rounds = quick ? 500 : 3_000;
        await using var sink = new SmtpSink(TimeSpan.Zero);
        // Wrong codes never use a code up here, so every try of a live code compares its hash: the
        // costlier failure. (A used-up code runs the same queries; the cap only discards the match.)
        await using var api = await ApiProcess.StartAsync(apiDll, sink.Port, iterations: 1_000, new Dictionary<string, string>
        {
            ["Activation:MaxCodeAttempts"] = "1000000",
            ["PasswordReset:Cooldown"] = "00:00:00",
            ["EmailChange:Cooldown"] = "00:00:00",
        });
        using var client = Client(api.Address, 4);

        // Pending accounts (activation codes); active ones with a reset code and an email change pending.
        for (var i = 0; i < accounts; i++)
        {
            Require(await RegisterAsync(client, $"pend{i}") && await RegisterAsync(client, $"act{i}"), "register");
        }

        await WaitForDeliveriesAsync(sink, 2 * accounts);
        for (var i = 0; i < accounts; i++)
        {
            var token = sink.Received[$"act{i}@example.test"].Token;
            Require((await client.GetAsync($"/activate?token={token}")).IsSuccessStatusCode, "activate");
            Require((await client.PostAsJsonAsync("/password/forgot", new { email = $"act{i}@example.test" })).StatusCode == HttpStatusCode.Accepted, "forgot");
            var login = await client.PostAsJsonAsync("/login", new { login = $"act{i}", password = Password });
            var bearer = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
            using var change = new HttpRequestMessage(HttpMethod.Post, "/me/email") { Content = JsonContent.Create(new { email = $"new{i}@example.test", password = Password }) };
            change.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            Require((await client.SendAsync(change)).StatusCode == HttpStatusCode.Accepted, "change email");
        }

        await WaitForDeliveriesAsync(sink, 5 * accounts); // + a reset mail, the new address's link and the old one's notice each

        (string Endpoint, string Case, Func<int, HttpRequestMessage> Request)[] cases =
        [
            ("POST /activate", "pending account, wrong code", i => Post("/activate", new { email = $"pend{i % accounts}@example.test", code = Wrong() })),
            ("POST /activate", "no account", i => Post("/activate", new { email = $"none{i % accounts}@example.test", code = Wrong() })),
            ("POST /password/reset", "account with a reset code, wrong code", i => Post("/password/reset", new { email = $"act{i % accounts}@example.test", code = Wrong(), password = "a new horse battery staple", confirmPassword = "a new horse battery staple" })),
            ("POST /password/reset", "no account", i => Post("/password/reset", new { email = $"none{i % accounts}@example.test", code = Wrong(), password = "a new horse battery staple", confirmPassword = "a new horse battery staple" })),
            ("POST /email/confirm", "address awaiting confirmation, wrong code", i => Post("/email/confirm", new { email = $"new{i % accounts}@example.test", code = Wrong() })),
            ("POST /email/confirm", "address with nothing pending", i => Post("/email/confirm", new { email = $"none{i % accounts}@example.test", code = Wrong() })),
        ];
        var samples = cases.Select(c => new Sample(c.Case)).ToArray();
        var order = Enumerable.Range(0, cases.Length).ToArray();
        const int warmUp = 100;
        for (var round = -warmUp; round < rounds; round++)
        {
            Random.Shared.Shuffle(order);
            foreach (var c in order)
            {
                using var request = cases[c].Request(round + warmUp);
                var start = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (round >= 0)
                {
                    samples[c].Add(elapsed, response.StatusCode == HttpStatusCode.BadRequest && body.Contains("\"code_invalid\"", StringComparison.Ordinal));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"code_invalid timing: {rounds} rounds of the {cases.Length} cases in random order, one request at a time, {accounts} addresses per case");
        Console.WriteLine($"| endpoint | case | p50 ms | p90 ms | p99 ms | not code_invalid |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        for (var c = 0; c < cases.Length; c++)
        {
            var s = samples[c];
            Console.WriteLine($"| {cases[c].Endpoint} | {cases[c].Case} | {s.Percentile(50):F3} | {s.Percentile(90):F3} | {s.Percentile(99):F3} | {s.Errors} |");
        }

        Console.WriteLine();
        Console.WriteLine("| endpoint | p50 with a code − p50 without | relative |");
        Console.WriteLine("|---|---:|---:|");
        for (var c = 0; c < cases.Length; c += 2)
        {
            var (with, without) = (samples[c].Percentile(50), samples[c + 1].Percentile(50));
            Console.WriteLine($"| {cases[c].Endpoint} | {(with - without) * 1000:F0} µs | {(with - without) / without:P1} |");
        }
    }

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };

    private static string Wrong() => RandomNumberGenerator.GetInt32(1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private static void Require(bool ok, string step)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"Setting up the code timing failed at: {step}.");
        }
    }

    private static async Task WaitForDeliveriesAsync(SmtpSink sink, int count)
    {
        var clock = Stopwatch.StartNew();
        while (sink.Deliveries < count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new TimeoutException($"Only {sink.Deliveries} of {count} mails arrived.");
            }

            await Task.Delay(20);
        }
    }
}
