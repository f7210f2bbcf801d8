using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>
/// PBKDF2-HMAC-SHA512 through ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>, whose
/// self-describing format records the iteration count so the cost can be raised later.
/// Hashing burns a core for a long time, so it runs on its own threads, one per core: a flood of
/// registrations queues here instead of taking the thread pool that every other request needs.
/// </summary>
public sealed class PasswordHashing : IDisposable
{
    private readonly PasswordHasher<Account> _hasher;
    private readonly Channel<Action> _work = Channel.CreateBounded<Action>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Thread[] _threads;
    private readonly Lazy<Task<string>> _dummyHash;

    public PasswordHashing(IOptions<PasswordOptions> options)
    {
        _hasher = new PasswordHasher<Account>(Options.Create(new PasswordHasherOptions
        {
            CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
            IterationCount = options.Value.Iterations,
        }));
        _dummyHash = new Lazy<Task<string>>(() => HashAsync(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))));
        _threads = new Thread[Environment.ProcessorCount];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"password-hashing-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>How many hashes may run at once: the core count.</summary>
    public int Concurrency => _threads.Length;

    public Task<string> HashAsync(string password, CancellationToken cancellationToken = default) =>
        RunAsync(() => _hasher.HashPassword(Account.Instance, password), cancellationToken);

    /// <summary>A hash of a random password at the configured cost, to verify against when there is no account.</summary>
    public Task<string> DummyHashAsync() => _dummyHash.Value;

    public Task<PasswordVerificationResult> VerifyAsync(string hash, string password, CancellationToken cancellationToken = default) =>
        RunAsync(() => _hasher.VerifyHashedPassword(Account.Instance, hash, password), cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a hashing thread; at most <see cref="Concurrency"/> run at once.</summary>
    internal async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _work.Writer.WriteAsync(
            () =>
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    completion.TrySetCanceled(cancellationToken);
                    return;
                }

                try
                {
                    completion.TrySetResult(work());
                }
                catch (Exception ex)
                {
                    completion.TrySetException(ex);
                }
            },
            cancellationToken);
        return await completion.Task;
    }

    private void Run()
    {
        LowerThisThreadsPriority();
        var reader = _work.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var item))
            {
                item();
            }
        }
    }

    public void Dispose() => _work.Writer.TryComplete();

    /// <summary>
    /// Hashing yields the CPU to request threads: on Linux, a nice value of 10 for this thread.
    /// When nothing else runs, hashing still gets whole cores; under load, health checks and
    /// activations are served first. (.NET's <see cref="Thread.Priority"/> does nothing on Linux.)
    /// </summary>
    private static void LowerThisThreadsPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = NativeMethods.setpriority(NativeMethods.PrioProcess, NativeMethods.gettid(), 10);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without these calls: hashing then runs at normal priority.
        }
    }

    private static class NativeMethods
    {
        public const int PrioProcess = 0;

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int setpriority(int which, int who, int prio);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int gettid();
    }

    /// <summary>The hasher's user type; PBKDF2 does not look at it.</summary>
    public sealed class Account
    {
        public static readonly Account Instance = new();
    }
}
