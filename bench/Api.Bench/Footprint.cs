using System.Globalization;
using System.Net;
using static Accounts.Bench.Requests;

namespace Accounts.Bench;

/// <summary>
/// Issue 18: the API's start and memory against a bare ASP.NET Core minimal API (<c>bench/Bare.App</c>)
/// built in the same run, and activation against the same server's ceiling. Cold start is process
/// start to the first 200 from <c>/health/ready</c> (a fresh database for ours each time), the
/// median of alternating starts; idle memory is VmRSS two seconds after that answer; peak memory is
/// VmHWM under the benchmark's register load (saturation at the production hash cost) and its
/// activation load (distinct tokens, 32 connections). <paramref name="environment"/> (from
/// <c>--env KEY=VALUE</c>) goes to our process only, to try a runtime setting before it goes into
/// the project; the bare app keeps the Web SDK's defaults, as it was measured in the issue.
/// </summary>
public static class Footprint
{
    /// <param name="apiDll">Ours: the build beside the harness, or another (<c>--api-dll</c>: a ReadyToRun publish, say).</param>
    /// <param name="builtApiDll">The build beside the harness, where the bare app is found.</param>
    public static async Task RunAsync(string apiDll, string builtApiDll, bool quick, IReadOnlyDictionary<string, string> environment)
    {
        // Beside ours in the same configuration: Api/bin/Release/net10.0/Api.dll, bench/Bare.App/bin/Release/net10.0/Bare.App.dll.
        var framework = new DirectoryInfo(Path.GetDirectoryName(builtApiDll)!);
        var configuration = framework.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.FullName;
        var bareDll = Path.Combine(root, "bench", "Bare.App", "bin", configuration.Name, framework.Name, "Bare.App.dll");
        if (!File.Exists(bareDll))
        {
            throw new FileNotFoundException($"Build the bare app first: {bareDll} is missing.");
        }

        Console.WriteLine($"ours: {apiDll}");
        Console.WriteLine($"bare: {bareDll}");
        if (environment.Count > 0)
        {
            Console.WriteLine($"environment of ours: {string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}"))}");
        }

        var starts = quick ? 3 : 7;
        var (bareStart, bareIdle, oursStart, oursIdle) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        // One start of each first, not counted: the files are in the page cache for every counted start.
        await using (await ApiProcess.StartAppAsync(bareDll))
        await using (await StartOursAsync(apiDll, smtpPort: 25, environment))
        {
        }

        for (var i = 0; i < starts; i++)
        {
            await using (var bare = await ApiProcess.StartAppAsync(bareDll))
            {
                bareStart.Add(bare.StartupTime.TotalMilliseconds);
                await Task.Delay(TimeSpan.FromSeconds(2));
                bareIdle.Add(bare.RssMiB);
                if (i == starts - 1)
                {
                    Console.WriteLine($"bare, idle: {bare.MemoryBreakdown()}");
                }
            }

            await using var ours = await StartOursAsync(apiDll, smtpPort: 25, environment);
            oursStart.Add(ours.StartupTime.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromSeconds(2));
            oursIdle.Add(ours.RssMiB);
            if (i == starts - 1)
            {
                Console.WriteLine($"ours, idle: {ours.MemoryBreakdown()}");
            }
        }

        Console.WriteLine($"starts (ms), bare: {string.Join(", ", bareStart.Select(Ms))}; ours: {string.Join(", ", oursStart.Select(Ms))}");
        Console.WriteLine($"idle RSS (MiB), bare: {string.Join(", ", bareIdle.Select(Ms))}; ours: {string.Join(", ", oursIdle.Select(Ms))}");

        // The bare app's peak under as many connections as ours gets.
        double barePeak;
        await using (var bare = await ApiProcess.StartAppAsync(bareDll))
        {
            using var client = Client(bare.Address, 64);
            await Load.ClosedAsync("bare", 32, TimeSpan.FromSeconds(quick ? 3 : 10), async _ => (await client.GetAsync("/health/ready")).IsSuccessStatusCode);
            barePeak = bare.PeakRssMiB;
        }

        // Ours: register at saturation (production hash cost), then activation with 32 connections.
        var seconds = quick ? 5 : 15;
        double registerRate;
        double peak;
        await using (var sink = new SmtpSink(TimeSpan.Zero))
        await using (var api = await StartOursAsync(apiDll, sink.Port, environment))
        {
            using var client = Client(api.Address, 64);
            var cores = Environment.ProcessorCount;
            await Load.ClosedAsync("warm-up", cores * 4, TimeSpan.FromSeconds(2), i => RegisterAsync(client, $"warm{i}"));
            var register = await Load.ClosedAsync("register", cores * 4, TimeSpan.FromSeconds(seconds), i => RegisterAsync(client, $"sat{i}"));
            registerRate = register.PerSecond;
            await sink.WaitForAsync(register.Count - register.Errors, TimeSpan.FromMinutes(2));
            peak = api.PeakRssMiB;
            Console.WriteLine($"after the register load: peak {peak:F0} MiB; now {api.MemoryBreakdown()}");
        }

        Sample activation;
        Sample ceiling;
        await using (var sink = new SmtpSink(TimeSpan.Zero))
        await using (var api = await StartOursAsync(apiDll, sink.Port, environment, iterations: 1_000))
        {
            using var client = Client(api.Address, 64);
            var made = await Load.CountedAsync("register for tokens", 16, quick ? 5_000 : 20_000, i => RegisterAsync(client, $"act{i}"));
            await sink.WaitForAsync(made.Count - made.Errors, TimeSpan.FromMinutes(5), api.Address);
            var links = sink.Received.Values.Select(v => v.Token!).ToArray();
            ceiling = await Load.ClosedAsync("health/live", 32, TimeSpan.FromSeconds(5), async _ => (await client.GetAsync("/health/live")).IsSuccessStatusCode);
            activation = await Load.CountedAsync("activate", 32, links.Length, async i =>
                (await client.GetAsync($"/activate?token={links[i]}")).StatusCode == HttpStatusCode.OK);
            Console.WriteLine($"after the activation load: peak {api.PeakRssMiB:F0} MiB; now {api.MemoryBreakdown()}");
            peak = Math.Max(peak, api.PeakRssMiB);
        }

        var (bs, os, bi, oi) = (Median(bareStart), Median(oursStart), Median(bareIdle), Median(oursIdle));
        Console.WriteLine();
        Console.WriteLine($"footprint: ours against a bare minimal API, {starts} alternating starts each");
        Console.WriteLine("| measure | bare | ours | ours / bare | target |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        Console.WriteLine($"| cold start to ready, median | {Ms(bs)} ms | {Ms(os)} ms | {os / bs:F2} | ≤ 1.30 {Met(os / bs <= 1.3)} |");
        Console.WriteLine($"| idle resident memory, median | {Ms(bi)} MiB | {Ms(oi)} MiB | {oi / bi:F2} | ≤ 1.30 {Met(oi / bi <= 1.3)} |");
        Console.WriteLine($"| peak resident memory under load | {Ms(barePeak)} MiB | {Ms(peak)} MiB | {peak / barePeak:F2} | ours ≤ 120 MiB {Met(peak <= 120)} |");
        Console.WriteLine($"| register at saturation | | {registerRate:F1}/s | | no lower than before |");
        Console.WriteLine($"| activations, 32 connections | | {activation.PerSecond:F0}/s ({activation.Errors} errors) | | |");
        Console.WriteLine($"| activations / /health/live rate | | {activation.PerSecond:F0} / {ceiling.PerSecond:F0} = {activation.PerSecond / ceiling.PerSecond:F2} | | ≥ 0.50 {Met(activation.PerSecond >= 0.5 * ceiling.PerSecond)} |");
        Console.WriteLine($"| activation p99, 32 connections | | {activation.Percentile(99):F1} ms | | ≤ 10 ms {Met(activation.Percentile(99) <= 10)} |");
    }

    private static Task<ApiProcess> StartOursAsync(string apiDll, int smtpPort, IReadOnlyDictionary<string, string> environment, int iterations = 220_000) =>
        ApiProcess.StartAsync(apiDll, smtpPort, iterations, environment);

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Ms(double value) => value.ToString("F0", CultureInfo.InvariantCulture);

    private static string Met(bool met) => met ? "met" : "MISSED";
}
