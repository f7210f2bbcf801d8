using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Accounts.Bench;

/// <summary>Latencies of one kind of request, and the rate they were served at.</summary>
public sealed class Sample(string name)
{
    private readonly List<double> _milliseconds = [];

    public string Name { get; } = name;

    public int Errors { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public int Count
    {
        get
        {
            lock (_milliseconds)
            {
                return _milliseconds.Count;
            }
        }
    }

    public double PerSecond => Count / Elapsed.TotalSeconds;

    public void Add(double milliseconds, bool ok)
    {
        lock (_milliseconds)
        {
            _milliseconds.Add(milliseconds);
            if (!ok)
            {
                Errors++;
            }
        }
    }

    public double Percentile(double p)
    {
        lock (_milliseconds)
        {
            if (_milliseconds.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _milliseconds.Order().ToArray();
            return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }
}

public static class Load
{
    /// <summary><paramref name="workers"/> loops, each sending its next request when the last is answered, for <paramref name="duration"/>.</summary>
    public static async Task<Sample> ClosedAsync(string name, int workers, TimeSpan duration, Func<int, Task<bool>> send)
    {
        var sample = new Sample(name);
        var counter = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                var i = Interlocked.Increment(ref counter);
                var start = Stopwatch.GetTimestamp();
                var ok = await Safe(send, i);
                sample.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds, ok);
            }
        }));
        sample.Elapsed = clock.Elapsed;
        return sample;
    }

    /// <summary><paramref name="count"/> requests spread over <paramref name="workers"/> loops, each taking the next index until none are left.</summary>
    public static async Task<Sample> CountedAsync(string name, int workers, int count, Func<int, Task<bool>> send)
    {
        var sample = new Sample(name);
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                var ok = await Safe(send, i);
                sample.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds, ok);
            }
        }));
        sample.Elapsed = clock.Elapsed;
        return sample;
    }

    /// <summary>Requests started at a steady <paramref name="perSecond"/>, whatever the answers take (open loop).</summary>
    public static async Task<Sample> OpenAsync(string name, double perSecond, TimeSpan duration, Func<int, Task<bool>> send, CancellationToken stop = default)
    {
        var sample = new Sample(name);
        var clock = Stopwatch.StartNew();
        var running = new List<Task>();
        var total = (int)(perSecond * duration.TotalSeconds);
        for (var i = 0; i < total && !stop.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, CancellationToken.None);
            }

            var index = i;
            running.Add(Task.Run(async () =>
            {
                var start = Stopwatch.GetTimestamp();
                var ok = await Safe(send, index);
                sample.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds, ok);
            }, CancellationToken.None));
        }

        await Task.WhenAll(running);
        sample.Elapsed = clock.Elapsed;
        return sample;
    }

    private static async Task<bool> Safe(Func<int, Task<bool>> send, int i)
    {
        try
        {
            return await send(i);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}

/// <summary>How many answers of each status the register requests got, so a run that lost requests says why.</summary>
public static class Statuses
{
    private static readonly ConcurrentDictionary<HttpStatusCode, int> Counts = new();

    public static void Count(HttpStatusCode status) => Counts.AddOrUpdate(status, 1, (_, n) => n + 1);

    public static void Reset() => Counts.Clear();

    public static string Summary() => string.Join(", ", Counts.OrderBy(c => c.Key).Select(c => $"{(int)c.Key}: {c.Value}"));
}
