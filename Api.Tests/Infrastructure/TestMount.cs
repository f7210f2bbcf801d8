using System.Diagnostics;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// A filesystem mounted for one test on a temporary folder: a small tmpfs the test can fill up
/// (<see cref="TmpfsAsync"/>, <see cref="Fill"/>), or a bind mount of another folder the test can
/// make read-only and writable again (<see cref="BindAsync"/>). Needs Linux and root
/// (<see cref="MountFactAttribute"/> skips the test otherwise). Unmounted on dispose with
/// <c>umount -l</c>, so that a file the app still holds open cannot keep it, and its folder removed.
/// </summary>
public sealed class TestMount : IAsyncDisposable
{
    private const string FillerName = "filler";

    private TestMount(string directory) => Directory = directory;

    /// <summary>The mount point.</summary>
    public string Directory { get; }

    /// <summary>Why mounting cannot be done here, or null when it can.</summary>
    public static string? Unsupported { get; } =
        !OperatingSystem.IsLinux() ? "needs Linux: it mounts a small filesystem (tmpfs, bind mounts)"
        : !Environment.IsPrivilegedProcess ? "needs root: it mounts a small filesystem (tmpfs, bind mounts); run the tests as root, as .ci/run does in CI"
        : !File.Exists("/usr/bin/mount") && !File.Exists("/bin/mount") ? "needs mount(8) (util-linux)"
        : null;

    /// <summary>A tmpfs of <paramref name="size"/> (<c>4m</c>) on a new temporary folder.</summary>
    public static async Task<TestMount> TmpfsAsync(string size)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("accounts-tmpfs-").FullName;
        await MountOrRemoveAsync(directory, "-t", "tmpfs", "-o", $"size={size},mode=0755", "tmpfs", directory);
        return new TestMount(directory);
    }

    /// <summary><paramref name="source"/> bound on a new temporary folder, read-only or not.</summary>
    public static async Task<TestMount> BindAsync(string source, bool readOnly)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("accounts-bind-").FullName;
        await MountOrRemoveAsync(directory, "--bind", "-o", readOnly ? "ro" : "rw", source, directory);
        return new TestMount(directory);
    }

    /// <summary>A bind mount made writable again (<c>mount -o remount,bind,rw</c>).</summary>
    public Task MakeWritableAsync() => RunAsync("mount", "-o", "remount,bind,rw", Directory);

    /// <summary>Writes a filler file until the filesystem has no room left; returns its size in bytes.</summary>
    public long Fill()
    {
        var path = Path.Combine(Directory, FillerName);
        long written = 0;
        // bufferSize 0: each Write is one write(2), so the last chunks find exactly where room ends.
        using (var filler = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            foreach (var chunk in new[] { 1 << 16, 1 << 12, 1 << 9 })
            {
                var bytes = new byte[chunk];
                while (true)
                {
                    try
                    {
                        filler.Write(bytes);
                        written += chunk;
                    }
                    catch (IOException)
                    {
                        // No room for this chunk; a smaller one may still fit.
                        break;
                    }
                }
            }
        }

        return written;
    }

    /// <summary>Deletes the filler file: the room it took is free again.</summary>
    public void Unfill() => File.Delete(Path.Combine(Directory, FillerName));

    public async ValueTask DisposeAsync()
    {
        await RunAsync("umount", "-l", Directory);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temporary folders.
        }
    }

    private static async Task MountOrRemoveAsync(string directory, params string[] arguments)
    {
        try
        {
            await RunAsync("mount", arguments);
        }
        catch
        {
            System.IO.Directory.Delete(directory);
            throw;
        }
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}

/// <summary>A fact that mounts filesystems (<see cref="TestMount"/>): skipped, with the reason, where that cannot be done.</summary>
public sealed class MountFactAttribute : FactAttribute
{
    public MountFactAttribute()
    {
        if (TestMount.Unsupported is { } reason)
        {
            Skip = $"This test {reason}.";
        }
    }
}
