using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Accounts.Bench;

/// <summary>The built API as its own process on a loopback port, with a fresh database folder.</summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private ApiProcess(Process process, string directory, Uri address, TimeSpan startup, ConcurrentQueue<string> log)
    {
        _process = process;
        _directory = directory;
        Address = address;
        StartupTime = startup;
        Log = log;
    }

    public Uri Address { get; }

    /// <summary>The SQLite file the API runs on (unless the settings name another database).</summary>
    public string DatabaseFile => Path.Combine(_directory, "bench.db");

    /// <summary>The API's log lines (JSON, one per line: warnings and errors only), the newest 1,000.</summary>
    public IReadOnlyCollection<string> Log { get; }

    /// <summary>The process id, to read its CPU time from <c>/proc</c>.</summary>
    public int Id => _process.Id;

    /// <summary>From process start to the first 200 from <c>/health/ready</c>.</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>Peak resident set size so far (VmHWM), in MiB.</summary>
    public double PeakRssMiB => ReadStatus("VmHWM:") / 1024.0;

    /// <param name="settings">
    /// Configuration that replaces or adds to the defaults below, keyed as in appsettings
    /// (<c>Database:Provider</c>), passed as environment variables (<c>Database__Provider</c>).
    /// </param>
    public static async Task<ApiProcess> StartAsync(
        string apiDll, int smtpPort, int iterations, IReadOnlyDictionary<string, string>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("accounts-bench-").FullName;
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var start = StartInfo(apiDll);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = address.ToString(),
            ["PublicBaseUrl"] = address.ToString(),
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(directory, "bench.db")}",
            ["DataProtection__KeysDirectory"] = Path.Combine(directory, "keys"),
            ["Email__Transport"] = "Smtp",
            ["Email__From"] = "bench@example.test",
            ["Email__Smtp__Host"] = "127.0.0.1",
            ["Email__Smtp__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Email__Smtp__Security"] = "None",
            ["Passwords__Iterations"] = iterations.ToString(CultureInfo.InvariantCulture),
            ["RateLimiting__Enabled"] = "false",
            ["Activation__ResendCooldown"] = "00:00:00",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return await LaunchAsync(start, environment, directory, address);
    }

    /// <summary>
    /// Any ASP.NET Core app (the footprint mode's bare one) on a free loopback port, timed to the
    /// first 200 from <c>/health/ready</c> like the API; <paramref name="environment"/> is added to its environment.
    /// </summary>
    public static Task<ApiProcess> StartAppAsync(string dll, IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = Directory.CreateTempSubdirectory("accounts-bench-").FullName;
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = StartInfo(dll);
        var variables = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = address.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        return LaunchAsync(start, variables, directory, address);
    }

    /// <summary><c>dotnet app.dll</c> in the app's folder, its output read by the harness.</summary>
    private static ProcessStartInfo StartInfo(string dll) => new("dotnet", [dll])
    {
        WorkingDirectory = Path.GetDirectoryName(dll)!,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };

    /// <summary>Resident set size now (VmRSS), in MiB.</summary>
    public double RssMiB => ReadStatus("VmRSS:") / 1024.0;

    /// <summary>
    /// What the resident memory is now, from <c>/proc/PID/status</c>: anonymous (the GC heap, native
    /// allocations, thread stacks), file-backed (mapped assemblies and libraries), shared memory
    /// (the runtime's double-mapped JIT code), and the thread count.
    /// </summary>
    public string MemoryBreakdown()
    {
        var status = ReadStatus();
        return string.Create(CultureInfo.InvariantCulture,
            $"anon {status.GetValueOrDefault("RssAnon:") / 1024.0:F0} MiB, file {status.GetValueOrDefault("RssFile:") / 1024.0:F0} MiB, shmem {status.GetValueOrDefault("RssShmem:") / 1024.0:F0} MiB, {status.GetValueOrDefault("Threads:")} threads");
    }

    private static async Task<ApiProcess> LaunchAsync(ProcessStartInfo start, Dictionary<string, string> environment, string directory, Uri address)
    {
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("The API did not start.");
        var log = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            // At the Warning level set above the API writes little; the newest lines are kept.
            if (e.Data is not null)
            {
                log.Enqueue(e.Data);
                while (log.Count > 1000 && log.TryDequeue(out var _))
                {
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"[api] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The API exited with {process.ExitCode} before it was ready.");
            }

            try
            {
                if ((await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("The API was not ready within 60 s.");
            }

            await Task.Delay(5);
        }

        return new ApiProcess(process, directory, address, clock.Elapsed, log);
    }

    private long ReadStatus(string field) => ReadStatus().GetValueOrDefault(field);

    /// <summary>Every numeric field of <c>/proc/PID/status</c> (<c>VmRSS:</c> → kB, <c>Threads:</c> → count), read at one moment.</summary>
    private Dictionary<string, long> ReadStatus()
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(line[(colon + 1)..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                fields[line[..(colon + 1)]] = value;
            }
        }

        return fields;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
