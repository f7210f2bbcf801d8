using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Accounts.Api.Email;

/// <summary>
/// Why a send failed, and whether trying again could help; <paramref name="Authentication"/> when
/// the relay refused our credentials (or stalled instead of answering them), which only a change of
/// settings cures.
/// </summary>
public sealed record DeliveryFailure(bool Permanent, string Reason, bool Authentication = false)
{
    /// <summary>How long the other side asked us to wait (<c>Retry-After</c>); the next attempt comes no sooner.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// A 5xx reply to the message is permanent; everything else (4xx, a refused, reset or timed-out
    /// connection, a protocol error, failed authentication) may pass, so it is retried.
    /// </summary>
    public static DeliveryFailure From(Exception exception) => exception switch
    {
        SmtpAuthenticationFailedException auth => new(false, auth.Message, Authentication: true),
        SmtpCommandException smtp => new(
            (int)smtp.StatusCode >= 500,
            $"SMTP {(int)smtp.StatusCode} to {smtp.ErrorCode}: {smtp.Message}"),
        SmtpProtocolException protocol => new(false, $"SMTP protocol error: {protocol.Message}"),
        AuthenticationException auth => new(false, $"SMTP authentication failed: {auth.Message}"),
        ServiceNotConnectedException or ServiceNotAuthenticatedException => new(false, exception.Message),
        SocketException socket => new(false, $"Network error ({socket.SocketErrorCode}): {socket.Message}"),
        IOException io => new(false, $"I/O error: {io.Message}"),
        TimeoutException timeout => new(false, $"Timed out: {timeout.Message}"),
        _ => new(false, $"{exception.GetType().Name}: {exception.Message}"),
    };
}

/// <summary>Signing in to the relay failed: refused, or not answered in time; the message says which and what to check.</summary>
public sealed class SmtpAuthenticationFailedException(string message, Exception inner) : Exception(message, inner);
