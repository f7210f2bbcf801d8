namespace Accounts.Api.Email;

/// <summary>
/// The delivery worker's view of a database that refuses its writes. The first failure begins a
/// pause (the worker logs it once); each further failure doubles the wait before the next try
/// (<see cref="Initial"/>, twice that, … up to <see cref="Max"/>, ±20% jitter); the first write
/// that gets through ends the pause (logged once). A pause that begins within
/// <see cref="LoudEvery"/> of the last loud one is not loud: a fault that comes and goes does not
/// flood the log. Shared by the claimer and the recorder.
/// </summary>
internal sealed class StorageBackoff(TimeProvider time)
{
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Max = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LoudEvery = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private int _failures;
    private long _began;
    private long? _lastLoud;

    /// <summary>Counts a failure: whether it began a pause worth a warning, and how long to wait before trying again.</summary>
    public (bool Loud, TimeSpan Delay) Failed()
    {
        lock (_lock)
        {
            var loud = false;
            if (_failures++ == 0)
            {
                _began = time.GetTimestamp();
                loud = _lastLoud is not { } last || time.GetElapsedTime(last) >= LoudEvery;
                if (loud)
                {
                    _lastLoud = _began;
                }
            }

            return (loud, Delay(_failures));
        }
    }

    /// <summary>Ends the pause, if there is one: how long it lasted and whether its beginning was loud; else null.</summary>
    public (TimeSpan Lasted, bool Loud)? Succeeded()
    {
        lock (_lock)
        {
            if (_failures == 0)
            {
                return null;
            }

            _failures = 0;
            return (time.GetElapsedTime(_began), _lastLoud == _began);
        }
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row.</summary>
    internal static TimeSpan Delay(int failures)
    {
        var nominal = Math.Min(Initial.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)), Max.TotalMilliseconds);
        var jittered = nominal * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, Max.TotalMilliseconds));
    }
}
