using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Bench;

/// <summary>
/// The tests' SMTP server (<c>Api.Tests/Infrastructure/TestSmtpServer.cs</c>, linked), keeping no
/// mail, optionally taking <see cref="Delay"/> before it accepts each message, and the ledger this
/// harness keeps of what it accepted: when each address got its mail, the token in its link, how
/// many copies arrived in all and from which sender. A sink made closed accepts connections but
/// greets none until <see cref="Open"/>, so that senders started at different moments all begin at
/// the same one.
/// </summary>
public sealed partial class SmtpSink : IAsyncDisposable
{
    private readonly TestSmtpServer _server = new(keepMail: false);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SmtpSink(TimeSpan delay, bool closed = false)
    {
        Delay = delay;
        _server.MailAccepted = Record;
        if (delay > TimeSpan.Zero)
        {
            _server.DataReply = async _ =>
            {
                await Task.Delay(delay);
                return null;
            };
        }

        if (closed)
        {
            _server.BeforeGreeting = () => _open.Task;
        }
    }

    public int Port => _server.Port;

    public TimeSpan Delay { get; }

    /// <summary>Recipient → (arrival timestamp, token in the mail's link).</summary>
    public ConcurrentDictionary<string, (long Timestamp, string? Token)> Received { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Recipient → how many copies arrived: more than one when an address was sent the same mail twice.</summary>
    public ConcurrentDictionary<string, int> Copies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Messages accepted in all, one per recipient.</summary>
    public int Deliveries => Copies.Values.Sum();

    /// <summary>Envelope sender (MAIL FROM) → messages accepted from it.</summary>
    public ConcurrentDictionary<string, int> BySender { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Greets the connections a closed sink has been holding, and every later one at once.</summary>
    public void Open() => _open.TrySetResult();

    /// <summary>Called in the SMTP session as each mail is accepted, before the server's 250.</summary>
    private void Record(ReceivedMail mail)
    {
        var now = Stopwatch.GetTimestamp();
        var match = TokenPattern().Match(Encoding.Latin1.GetString(mail.Data));
        var token = match.Success ? match.Groups[1].Value : null;
        foreach (var recipient in mail.Recipients)
        {
            Received[recipient] = (now, token);
            Copies.AddOrUpdate(recipient, 1, (_, n) => n + 1);
        }

        BySender.AddOrUpdate(mail.MailFrom, mail.Recipients.Count, (_, n) => n + mail.Recipients.Count);
    }

    /// <param name="api">When given, a timeout also prints what the API's /health/ready says of its outbox.</param>
    public async Task WaitForAsync(int count, TimeSpan timeout, Uri? api = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Received.Count < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                var health = "";
                if (api is not null)
                {
                    using var client = new HttpClient { BaseAddress = api };
                    health = "; /health/ready: " + await client.GetStringAsync("/health/ready");
                }

                throw new TimeoutException($"Only {Received.Count} of {count} mails arrived within {timeout}{health}.");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _open.TrySetCanceled();
        await _server.DisposeAsync();
    }

    [GeneratedRegex(@"token=([A-Za-z0-9_\-]{43})")]
    private static partial Regex TokenPattern();
}
