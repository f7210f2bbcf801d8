using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Housekeeping;

/// <summary>Runs the <see cref="Housekeeper"/> on <c>Housekeeping:Interval</c>, the first time a minute after start (or sooner).</summary>
public sealed partial class HousekeepingService(
    Housekeeper housekeeper, IOptions<HousekeepingOptions> options, TimeProvider time, ILogger<HousekeepingService> logger) : BackgroundService
{
    /// <summary>The first run's delay: soon after a start, so instances restarted more often than the interval still clean up.</summary>
    public static readonly TimeSpan FirstRunDelay = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Interval;
        if (interval == TimeSpan.Zero)
        {
            return;
        }

        // Runs are due at fixed times, not a fixed pause after each run: a clock that jumps (or a
        // run that took long) gets one run at once, then the schedule goes on from there.
        var due = time.GetUtcNow() + (interval < FirstRunDelay ? interval : FirstRunDelay);
        try
        {
            while (true)
            {
                var wait = due - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                try
                {
                    await housekeeper.RunAsync(stoppingToken);
                }
                catch (StorageUnavailableException ex)
                {
                    // The database is down or full: nothing is lost by waiting for the next run.
                    LogFailed(logger, ex);
                }

                var now = time.GetUtcNow();
                due = due + interval > now ? due + interval : now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Housekeeping could not run; it tries again at the next interval.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

public static class HousekeepingExtensions
{
    /// <summary>The housekeeping service and its settings: <c>Housekeeping</c>, <c>Accounts</c>, and <c>Email:Delivery:Retention</c> checked against the cooldowns.</summary>
    public static IServiceCollection AddHousekeeping(this IServiceCollection services)
    {
        services.AddValidatedOptions<HousekeepingOptions, HousekeepingOptions.Validator>(HousekeepingOptions.SectionName);
        services.AddValidatedOptions<AccountLifetimeOptions, AccountLifetimeOptions.Validator>(AccountLifetimeOptions.SectionName);
        services.AddSingleton<IValidateOptions<Email.EmailOptions>, RetentionValidator>();
        services.AddSingleton<Housekeeper>();
        services.AddHostedService<HousekeepingService>();
        return services;
    }
}
