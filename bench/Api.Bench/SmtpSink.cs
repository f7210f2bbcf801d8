using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Accounts.Bench;

/// <summary>
/// An SMTP server on loopback that accepts everything, optionally taking <see cref="Delay"/> before
/// it accepts each message, and records when each message arrived, the token in its link, how
/// many copies arrived in all and from which sender. A sink made closed accepts connections but
/// greets none until <see cref="Open"/>, so that senders started at different moments all begin
/// at the same one.
/// </summary>
public sealed partial class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SmtpSink(TimeSpan delay, bool closed = false)
    {
        Delay = delay;
        if (!closed)
        {
            _open.SetResult();
        }

        _listener.Start(1024);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

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

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                // Each reply is its own small write: without this, Nagle's algorithm holds one back
                // until the client's delayed ACK (tens of ms), which a real server's batched replies never meet.
                client.NoDelay = true;
                _ = Task.Run(() => ServeAsync(client));
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.Latin1);
            await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await _open.Task.WaitAsync(_stop.Token);
            await writer.WriteLineAsync("220 sink");
            var sender = "";
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n");
                        break;
                    case "MAIL":
                        // A new envelope: whatever an unfinished one named is dropped, as a real server does.
                        sender = Address(line);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "RSET":
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "RCPT":
                        recipients.Add(Address(line));
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 go on");
                        string? token = null;
                        while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                        {
                            if (token is null && TokenPattern().Match(data) is { Success: true } match)
                            {
                                token = match.Groups[1].Value;
                            }
                        }

                        if (Delay > TimeSpan.Zero)
                        {
                            await Task.Delay(Delay, _stop.Token);
                        }

                        var now = Stopwatch.GetTimestamp();
                        foreach (var recipient in recipients)
                        {
                            Received[recipient] = (now, token);
                            Copies.AddOrUpdate(recipient, 1, (_, n) => n + 1);
                        }

                        BySender.AddOrUpdate(sender, recipients.Count, (_, n) => n + recipients.Count);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 bye");
                        return;
                    default:
                        await writer.WriteLineAsync("250 OK");
                        break;
                }
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }

    private static string Address(string line) =>
        line[(line.IndexOf('<', StringComparison.Ordinal) + 1)..line.IndexOf('>', StringComparison.Ordinal)];

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
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
    }

    [GeneratedRegex(@"token=([A-Za-z0-9_\-]{43})")]
    private static partial Regex TokenPattern();
}
