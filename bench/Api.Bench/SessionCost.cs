using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using static Accounts.Bench.Requests;

namespace Accounts.Bench;

/// <summary>
/// Issue 19: what checking the session costs an authenticated request. One active account signs in
/// once; <c>GET /me</c> with its bearer token runs with 32 connections, beside <c>/health/live</c>
/// on the same server as the ceiling, and <c>POST /token/refresh</c> (when the build has it) is
/// timed as a chain of rotations. Run on the build before sessions and after, and compare.
/// </summary>
public static class SessionCost
{
    public static async Task RunAsync(string apiDll, bool quick, string provider)
    {
        var seconds = TimeSpan.FromSeconds(quick ? 4 : 10);
        using var postgres = provider == "postgres" ? ThrowawayPostgres.Start(durable: true) : null;
        var settings = postgres is null
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = postgres.ConnectionString };
        await using var sink = new SmtpSink(TimeSpan.Zero);
        await using var api = await ApiProcess.StartAsync(apiDll, sink.Port, 1_000, settings);
        using var client = Client(api.Address, 64);

        if (!await RegisterAsync(client, "session"))
        {
            throw new InvalidOperationException("The bench account could not register.");
        }

        await sink.WaitForAsync(1, TimeSpan.FromMinutes(1), api.Address);
        var activation = await client.GetAsync($"/activate?token={sink.Received.Values.Single().Token}");
        activation.EnsureSuccessStatusCode();
        var login = await client.PostAsJsonAsync("/login", new { login = "session", password = "correct horse battery staple" });
        login.EnsureSuccessStatusCode();
        using var signedIn = JsonDocument.Parse(await login.Content.ReadAsStringAsync());
        var accessToken = signedIn.RootElement.GetProperty("accessToken").GetString()!;
        var refreshToken = signedIn.RootElement.TryGetProperty("refreshToken", out var refresh) ? refresh.GetString() : null;

        async Task<bool> Me(int _)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await client.SendAsync(request);
            return response.StatusCode == HttpStatusCode.OK;
        }

        await Load.ClosedAsync("warm-up", 32, TimeSpan.FromSeconds(2), Me);
        var ceiling = await Load.ClosedAsync("health/live", 32, seconds, async _ => (await client.GetAsync("/health/live")).IsSuccessStatusCode);
        var me = await Load.ClosedAsync("me", 32, seconds, Me);

        Sample? refreshes = null;
        if (refreshToken is not null)
        {
            // One session's chain: each refresh retires the token the next one would have used.
            var current = refreshToken;
            refreshes = await Load.ClosedAsync("token/refresh", 1, seconds, async _ =>
            {
                using var response = await client.PostAsJsonAsync("/token/refresh", new { refreshToken = current });
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }

                using var pair = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                current = pair.RootElement.GetProperty("refreshToken").GetString()!;
                return true;
            });
        }

        Console.WriteLine();
        Console.WriteLine($"session cost ({provider}, {api.Address}): authenticated GET /me against the ceiling");
        Console.WriteLine("| measure | rate | p50 | p99 | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var sample in new[] { ceiling, me, refreshes }.OfType<Sample>())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {sample.Name} | {sample.PerSecond:F0}/s | {sample.Percentile(50):F2} ms | {sample.Percentile(99):F2} ms | {sample.Errors} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| me ÷ live | {me.PerSecond / ceiling.PerSecond:F2} | | | |"));
    }
}
