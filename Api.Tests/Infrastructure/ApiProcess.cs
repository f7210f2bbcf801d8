using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The built API (<c>dotnet Api.dll</c>) as a child process, configured through <c>A__B__C</c>
/// environment variables, so a test can kill it as <c>kill -9</c> would.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private ApiProcess(Process process, Uri? baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri? BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the server on a free loopback port and waits until it answers <c>/health/live</c>.</summary>
    public static async Task<ApiProcess> StartServerAsync(string directory, IDictionary<string, string?> settings)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        var child = new ApiProcess(Launch(directory, settings, ["--urls", baseAddress.ToString()]), baseAddress);
        using var client = new HttpClient { BaseAddress = baseAddress };
        try
        {
            await Eventually.TrueAsync(
            async () =>
            {
                if (child._process.HasExited)
                {
                    throw new InvalidOperationException($"The API exited with {child._process.ExitCode}:\n{child.Output}");
                }

                try
                {
                    return (await client.GetAsync("/health/live")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "the API answers",
            TimeSpan.FromSeconds(30));
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    /// <summary>Runs a command line (for example <c>outbox list --dead</c>) to its end; returns the exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, IDictionary<string, string?> settings, params string[] args)
    {
        await using var child = new ApiProcess(Launch(directory, settings, args), null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await child._process.WaitForExitAsync(timeout.Token);
        child._process.WaitForExit(); // flushes the redirected output
        return (child._process.ExitCode, child.Output);
    }

    /// <summary>
    /// Starts the built app with the test defaults (<see cref="TestSettings"/>) and <paramref name="overrides"/>, expects it to
    /// refuse to start (a non-zero exit), and returns what it printed.
    /// </summary>
    public static async Task<string> FailedStartOutputAsync(IDictionary<string, string?> overrides)
    {
        using var folder = new TemporaryDatabase("accounts-start-");
        var settings = TestSettings.Defaults(folder.Directory, smtpPort: 25).With(overrides);
        var (exitCode, output) = await RunAsync(folder.Directory, settings, "--urls", "http://127.0.0.1:0");
        Assert.True(exitCode != 0, $"The app started although it should have refused:\n{output}");
        return output;
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or released.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (!_process.HasExited)
            {
                Kill();
            }

            _process.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static Process Launch(string directory, IDictionary<string, string?> settings, string[] args)
    {
        var api = Path.Combine(AppContext.BaseDirectory, "Api.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(api);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
