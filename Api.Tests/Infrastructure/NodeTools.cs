using System.Diagnostics;
using System.Text;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The reference implementations under <c>Api.Tests/Node</c> (npm packages pinned in its
/// <c>package-lock.json</c>), run with the machine's Node.js. The first use in a test run installs them
/// with <c>npm ci</c> (skipped when <c>node_modules</c> already matches the lock file); a file lock keeps
/// two test processes from installing at once.
/// </summary>
public static class NodeTools
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static bool _installed;

    /// <summary>The folder that holds <c>package.json</c>.</summary>
    public static string Folder { get; } = FindFolder();

    /// <summary>Runs <c>node script</c> in <see cref="Folder"/> with <paramref name="input"/> on stdin; returns stdout, or throws with stderr.</summary>
    public static async Task<string> RunAsync(string script, string input, TimeSpan timeout)
    {
        await EnsureInstalledAsync();
        var (exitCode, output, error) = await ExecuteAsync("node", [script], input, timeout);
        return exitCode == 0 ? output : throw new InvalidOperationException($"node {script} exited with {exitCode}: {error}");
    }

    /// <summary>
    /// Runs an installed package's command (<paramref name="script"/>, under <c>node_modules</c>)
    /// with <paramref name="arguments"/>; returns its exit code and output, whatever they are.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunPackageAsync(
        string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        await EnsureInstalledAsync();
        return await ExecuteAsync("node", [Path.Combine(Folder, "node_modules", script), .. arguments], input: null, timeout);
    }

    /// <summary>The full path of a file an installed package ships (<paramref name="relativePath"/> under <c>node_modules</c>).</summary>
    public static async Task<string> PackageFileAsync(string relativePath)
    {
        await EnsureInstalledAsync();
        var path = Path.Combine(Folder, "node_modules", relativePath);
        return File.Exists(path) ? path : throw new FileNotFoundException($"npm ci did not install {relativePath}.", path);
    }

    internal static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (_installed)
            {
                return;
            }

            await using var fileLock = await AcquireFileLockAsync(Path.Combine(Folder, ".install.lock"), TimeSpan.FromMinutes(5));
            // npm ci writes node_modules/.package-lock.json last; a copy equal to the lock file means installed.
            var installedLock = Path.Combine(Folder, "node_modules", ".package-lock.json");
            if (!File.Exists(installedLock) || !SameDependencies(installedLock, Path.Combine(Folder, "package-lock.json")))
            {
                var (exitCode, output, error) = await ExecuteAsync(
                    "npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], input: null, TimeSpan.FromMinutes(5));
                if (exitCode != 0)
                {
                    throw new InvalidOperationException(
                        $"npm ci in {Folder} exited with {exitCode}. The tests need Node.js, npm and the npm registry.\n{output}\n{error}");
                }
            }

            _installed = true;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>The installed packages' versions against the lock file's (npm's hidden lock has no root entry).</summary>
    private static bool SameDependencies(string installedLock, string lockFile)
    {
        static string Packages(string path)
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            var packages = document.RootElement.GetProperty("packages").EnumerateObject()
                .Where(p => p.Name.Length > 0)
                .Select(p => $"{p.Name}@{(p.Value.TryGetProperty("version", out var v) ? v.GetString() : "")}")
                .Order(StringComparer.Ordinal);
            return string.Join('\n', packages);
        }

        return Packages(installedLock) == Packages(lockFile);
    }

    private static async Task<IAsyncDisposable> AcquireFileLockAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                return stream;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another test process is installing: it holds the file until it is done.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    internal static async Task<(int ExitCode, string Output, string Error)> ExecuteAsync(
        string fileName, IEnumerable<string> arguments, string? input, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        using var cancellation = new CancellationTokenSource(timeout);
        var output = process.StandardOutput.ReadToEndAsync(cancellation.Token);
        var error = process.StandardError.ReadToEndAsync(cancellation.Token);
        await using (var stdin = process.StandardInput)
        {
            if (input is not null)
            {
                await stdin.WriteAsync(input.AsMemory(), cancellation.Token);
            }
        }

        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "Api.Tests", "Node");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No Api.Tests/Node/package.json above {AppContext.BaseDirectory}.");
    }
}
