using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of its own, made with the installed binaries (Debian's <c>postgresql</c>
/// package: <c>initdb</c>, <c>pg_ctl</c>) in a temporary folder and listening on a free loopback
/// port, with trust authentication for the <c>postgres</c> role; gone, files and all, on
/// <see cref="Dispose"/>. As root, the tools run as the <c>postgres</c> user: the server refuses
/// to run as root. Used by the tests and the benchmarks (which link this file).
/// </summary>
public sealed class ThrowawayPostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private readonly string _options;
    private int _disposed;
    private bool _stopped;

    private ThrowawayPostgres(string bin, string data, int port, string options)
    {
        _bin = bin;
        _data = data;
        _options = options;
        Port = port;
        ConnectionString = $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database=postgres";
    }

    public int Port { get; }

    /// <summary>To the <c>postgres</c> database as the <c>postgres</c> role, which may create databases.</summary>
    public string ConnectionString { get; }

    /// <summary>The newest installed PostgreSQL's bin folder (Debian keeps each major version under /usr/lib/postgresql), or null.</summary>
    public static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    /// <summary>
    /// Creates and starts a server. <paramref name="durable"/> keeps PostgreSQL's defaults (every
    /// commit flushed to disk), as a benchmark needs; otherwise it never waits for the disk.
    /// </summary>
    public static ThrowawayPostgres Start(bool durable, int maxConnections = 500)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException("No PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql).");
        RemoveLeftovers();
        var data = Path.Combine(Path.GetTempPath(), $"accounts-postgres-{Guid.NewGuid():N}");
        Run(bin, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync");
        var port = FreePort();
        var options = new List<string>
        {
            "-c listen_addresses=127.0.0.1",
            $"-c port={port.ToString(CultureInfo.InvariantCulture)}",
            $"-c unix_socket_directories={data}",
            $"-c max_connections={maxConnections.ToString(CultureInfo.InvariantCulture)}",
        };
        if (!durable)
        {
            options.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
        }

        var server = new ThrowawayPostgres(bin, data, port, string.Join(' ', options));
        server.StartAgain();
        return server;
    }

    /// <summary>Stops the server as an operator would (<c>pg_ctl stop -m fast</c>): open connections are ended, nothing committed is lost.</summary>
    public void Stop()
    {
        Run(_bin, "pg_ctl", "-D", _data, "-m", "fast", "-w", "stop");
        _stopped = true;
    }

    /// <summary>Starts the server (again, after <see cref="Stop"/>) on the same port, with the same settings.</summary>
    public void StartAgain()
    {
        Run(_bin, "pg_ctl", "-D", _data, "-l", Path.Combine(_data, "server.log"), "-w", "-t", "60", "-o", _options, "start");
        _stopped = false;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (!_stopped)
            {
                Run(_bin, "pg_ctl", "-D", _data, "-m", "immediate", "-w", "stop");
            }

            Directory.Delete(_data, recursive: true);
        }
    }

    /// <summary>
    /// Stops the server and removes its folder from a process of their own, without waiting: for
    /// a process that is exiting (a test host is ended soon after its ProcessExit handlers start).
    /// </summary>
    public void DisposeInBackground()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // setsid -f: out of this process's tree and session, so it outlives whatever ends this process.
            Start("setsid", "-f", "sh", "-c", "exec > /dev/null 2>&1; \"$0\" -D \"$1\" -m immediate -w stop; rm -rf \"$1\"",
                Path.Combine(_bin, "pg_ctl"), _data).Dispose();
        }
    }

    /// <summary>Removes the folders of earlier servers that are no longer running (their runs ended before they could).</summary>
    private static void RemoveLeftovers()
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), "accounts-postgres-*"))
        {
            if (!File.Exists(Path.Combine(folder, "postmaster.pid")))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another run's, being removed right now, or not ours to remove.
                }
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string bin, string tool, params string[] arguments)
    {
        using var process = Start(Path.Combine(bin, tool), arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{tool} did not finish in 90 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {output.Result}{error.Result}");
        }
    }

    /// <summary>Starts a program, as the <c>postgres</c> user when this process is root (the server refuses to run as root).</summary>
    private static Process Start(string program, params string[] arguments)
    {
        var asRoot = Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in asRoot ? ["-u", "postgres", "--", program, .. arguments] : arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
