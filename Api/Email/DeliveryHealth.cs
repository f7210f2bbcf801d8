namespace Accounts.Api.Email;

/// <summary>
/// What this instance's recent delivery attempts say about the relay, for <c>/health/ready</c>:
/// how many attempts in a row failed, the last error, whether it was the relay refusing our
/// credentials, and a send that is waiting on the relay right now longer than it should. Every
/// attempt reports here (<see cref="MessageSender"/>; the SMTP transport reports a stalled AUTH).
/// </summary>
public sealed partial class DeliveryHealth(TimeProvider time, ILogger<DeliveryHealth> logger)
{
    /// <summary>Failed attempts in a row, with no success between, that make readiness Degraded.</summary>
    public const int FailuresBeforeDegraded = 3;

    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private DeliveryFailure? _lastFailure;
    private DateTimeOffset _lastFailureAt;
    private string? _stalled;

    public DeliverySnapshot Current
    {
        get
        {
            lock (_lock)
            {
                return new(_consecutiveFailures, _lastFailure, _lastFailureAt, _stalled);
            }
        }
    }

    public void Succeeded()
    {
        lock (_lock)
        {
            _consecutiveFailures = 0;
            _lastFailure = null;
            _stalled = null;
        }
    }

    public void Failed(DeliveryFailure failure)
    {
        bool first;
        lock (_lock)
        {
            // The first refusal of our credentials after anything else is logged as an error, once:
            // it never passes by itself, unlike the per-message retries logged beside it.
            first = failure.Authentication && _lastFailure is not { Authentication: true };
            _consecutiveFailures++;
            _lastFailure = failure;
            _lastFailureAt = time.GetUtcNow();
            _stalled = null;
        }

        if (first)
        {
            LogAuthenticationFailed(failure.Reason);
        }
    }

    /// <summary>A send is waiting on the relay longer than a healthy one takes (<paramref name="what"/>), or no longer (null).</summary>
    public void Stalled(string? what)
    {
        lock (_lock)
        {
            _stalled = what;
        }

        if (what is not null)
        {
            LogStalled(what);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The mail relay refuses our credentials; mail stays queued until Email:Smtp:Username and Email:Smtp:Password are right: {Reason}")]
    private partial void LogAuthenticationFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail delivery is stalled: {What}")]
    private partial void LogStalled(string what);
}

/// <param name="ConsecutiveFailures">Attempts that failed since the last success.</param>
/// <param name="LastFailure">The last failure, while no attempt has succeeded since.</param>
/// <param name="Stalled">What a send in progress has been waiting on for too long, if anything.</param>
public sealed record DeliverySnapshot(int ConsecutiveFailures, DeliveryFailure? LastFailure, DateTimeOffset LastFailureAt, string? Stalled);
