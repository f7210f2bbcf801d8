using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the suite runs against, one per test run. <c>ACCOUNTS_TEST_POSTGRES</c>,
/// when set, names a server of one's own (a connection string with the right to create
/// databases); otherwise a throwaway server is made with the installed binaries (Debian's
/// <c>postgresql</c> package: <c>initdb</c>, <c>pg_ctl</c>) in a temporary folder, on a free
/// loopback port, and removed when the test process ends. Each test gets a database of its own.
/// </summary>
public static class TestPostgresServer
{
    public const string ConnectionVariable = "ACCOUNTS_TEST_POSTGRES";

    private static readonly Lazy<Server> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to the server's <c>postgres</c> database, as a role that may create databases.</summary>
    public static string AdminConnectionString => Instance.Value.ConnectionString;

    /// <summary>A connection string to <paramref name="database"/> on the server.</summary>
    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    public static async Task CreateDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database}\";", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Drops the database, ending whatever connections are still open on it.</summary>
    public static async Task DropDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE);", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static Server Start()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } configured)
        {
            return new Server(configured, null);
        }

        var bin = FindBinaries()
            ?? throw new InvalidOperationException(
                $"The PostgreSQL tests need a server: install Debian's postgresql package (apt-get install postgresql; .ci/run does) "
                + $"or set {ConnectionVariable} to a connection string of your own.");
        var data = Path.Combine(Path.GetTempPath(), $"accounts-postgres-{Guid.NewGuid():N}");
        Run(bin, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync");
        var port = FreePort();
        // A test server: nothing in it must survive a crash, so it never waits for the disk.
        var options = string.Join(' ',
            "-c listen_addresses=127.0.0.1", $"-c port={port.ToString(CultureInfo.InvariantCulture)}", $"-c unix_socket_directories={data}",
            "-c max_connections=500", "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off");
        Run(bin, "pg_ctl", "-D", data, "-l", Path.Combine(data, "server.log"), "-w", "-t", "60", "-o", options, "start");
        var server = new Server($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres", () =>
        {
            Run(bin, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop");
            Directory.Delete(data, recursive: true);
        });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    /// <summary>The newest installed PostgreSQL's bin folder (Debian keeps each major version under /usr/lib/postgresql).</summary>
    private static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a PostgreSQL tool, as the <c>postgres</c> user when this process is root (the server refuses to run as root).</summary>
    private static void Run(string bin, string tool, params string[] arguments)
    {
        var asRoot = Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? "runuser" : Path.Combine(bin, tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asRoot)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", Path.Combine(bin, tool)])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
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

    private sealed class Server(string connectionString, Action? stop)
    {
        private int _stopped;

        public string ConnectionString { get; } = connectionString;

        public void Stop()
        {
            if (stop is not null && Interlocked.Exchange(ref _stopped, 1) == 0)
            {
                try
                {
                    stop();
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException)
                {
                    // The process is ending anyway; the temporary folder goes with the machine.
                }
            }
        }
    }
}
