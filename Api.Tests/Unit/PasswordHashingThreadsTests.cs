using Accounts.Api.Accounts;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Unit;

public sealed class PasswordHashingThreadsTests
{
    [Fact]
    public async Task Hashing_runs_on_its_own_threads_never_more_at_once_than_there_are_cores()
    {
        using var hashing = new PasswordHashing(Options.Create(new PasswordOptions { Iterations = 1_000 }));
        var running = 0;
        var most = 0;
        using var release = new ManualResetEventSlim();
        using var started = new CountdownEvent(hashing.Concurrency);

        var work = Enumerable.Range(0, hashing.Concurrency * 4).Select(_ => hashing.RunAsync(
            () =>
            {
                var now = Interlocked.Increment(ref running);
                lock (started)
                {
                    most = Math.Max(most, now);
                    if (!started.IsSet)
                    {
                        started.Signal();
                    }
                }

                release.Wait(TimeSpan.FromSeconds(10)); // hold the thread until every hashing thread is busy
                Interlocked.Decrement(ref running);
                return (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name);
            },
            CancellationToken.None)).ToArray();

        Assert.True(started.Wait(TimeSpan.FromSeconds(10)), "every hashing thread should start work");
        release.Set();
        var threads = await Task.WhenAll(work);

        Assert.Equal(Environment.ProcessorCount, hashing.Concurrency);
        Assert.Equal(hashing.Concurrency, most);
        Assert.All(threads, t =>
        {
            Assert.False(t.IsThreadPoolThread);
            Assert.StartsWith("password-hashing-", t.Name);
        });
    }
}
