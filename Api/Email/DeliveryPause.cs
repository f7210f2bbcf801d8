using Accounts.Api.Storage;

namespace Accounts.Api.Email;

/// <summary>
/// How the delivery worker waits while the database refuses its writes
/// (<see cref="StorageUnavailableException"/>: a full disk, an unreachable server): a warning when
/// a pause begins, waits from 1 s doubling to 1 min between tries (<see cref="StorageBackoff"/>),
/// cut short the moment any write gets through (a request's, or readiness's probe), and a line
/// when it is over. Shared by the claims and the recorder.
/// </summary>
internal sealed partial class DeliveryPause(Database database, TimeProvider time, ILogger logger)
{
    private readonly StorageBackoff _backoff = new(time);

    /// <summary>Waits after a write the database refused, less if a write gets through meanwhile or the worker is stopping.</summary>
    public async Task WaitAsync(StorageUnavailableException fault, CancellationToken stoppingToken)
    {
        var (loud, delay) = _backoff.Failed();
        if (loud)
        {
            LogStoragePaused(fault.Reason);
        }

        LogStorageStillFailing(fault.Reason, delay);

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            await Task.WhenAny(Task.Delay(delay, time, linked.Token), database.WhenWritable.WaitAsync(linked.Token));
        }
        finally
        {
            await linked.CancelAsync();
        }
    }

    /// <summary>A write of the worker's got through: a pause, if there was one, is over.</summary>
    public void Recovered()
    {
        if (_backoff.Succeeded() is var (lasted, loud))
        {
            LogStorageResumed(loud ? LogLevel.Information : LogLevel.Debug, lasted);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery is paused: the database cannot take writes ({Reason}); trying again with backoff")]
    private partial void LogStoragePaused(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database cannot take writes ({Reason}); delivery tries again in {Delay}")]
    private partial void LogStorageStillFailing(string reason, TimeSpan delay);

    [LoggerMessage(Message = "Delivery resumed: the database takes writes again, after {Duration}")]
    private partial void LogStorageResumed(LogLevel level, TimeSpan duration);
}
