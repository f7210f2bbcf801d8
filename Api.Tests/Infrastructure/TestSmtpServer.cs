using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using MimeKit;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>A mail the test SMTP server accepted: the envelope and the parsed message.</summary>
public sealed record ReceivedMail(string MailFrom, IReadOnlyList<string> Recipients, MimeMessage Message)
{
    public string Subject => Message.Subject ?? "";

    public string TextBody => Message.TextBody ?? "";

    public string HtmlBody => Message.HtmlBody ?? "";

    /// <summary>The first http(s) link in the plain-text body.</summary>
    public Uri Link
    {
        get
        {
            var start = TextBody.IndexOf("http", StringComparison.Ordinal);
            Assert.True(start >= 0, $"No link in the mail:\n{TextBody}");
            var end = TextBody.IndexOfAny([' ', '\r', '\n'], start);
            return new Uri(end < 0 ? TextBody[start..] : TextBody[start..end]);
        }
    }

    /// <summary>The <c>token</c> query parameter of <see cref="Link"/>.</summary>
    public string Token => Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Link.Query)["token"].ToString();
}

/// <summary>
/// A small ESMTP server on loopback that accepts every mail, for tests that send through MailKit
/// over real TCP. Each accepted message is parsed with MimeKit and can be awaited with a timeout.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<ReceivedMail> _inbox = Channel.CreateUnbounded<ReceivedMail>();
    private readonly List<ReceivedMail> _received = [];
    private readonly Task _acceptLoop;
    private int _disposed;

    public TestSmtpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>
    /// Replaces the server's reply to a command: called with each command line, it returns the
    /// reply to send instead (for example "550 5.1.1 No such user"), or null for the normal one.
    /// </summary>
    public Func<string, string?>? ReplyOverride { get; set; }

    /// <summary>Every mail received so far, in order.</summary>
    public IReadOnlyList<ReceivedMail> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Waits for the next mail to <paramref name="recipient"/> (any mail when null).</summary>
    public async Task<ReceivedMail> WaitForMailAsync(string? recipient = null, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var mail = await _inbox.Reader.ReadAsync(cancellation.Token);
                if (recipient is null || mail.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase))
                {
                    return mail;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No mail to {recipient ?? "anyone"} within {timeout ?? TimeSpan.FromSeconds(10)}; received: "
                + string.Join(", ", Received.SelectMany(m => m.Recipients)));
        }
    }

    /// <summary>Waits until <paramref name="count"/> mails have arrived in all.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitForCountAsync(int count, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (Received.Count < count)
        {
            try
            {
                await _inbox.Reader.WaitToReadAsync(cancellation.Token);
                while (Received.Count < count && _inbox.Reader.TryRead(out _))
                {
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Only {Received.Count} of {count} mails arrived.");
            }
        }

        return Received;
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            // Latin-1 maps bytes to chars one to one, so 8-bit bodies survive the round trip.
            using var reader = new StreamReader(stream, Encoding.Latin1);
            await using var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 localhost test SMTP ready");

            string? mailFrom = null;
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stopping.Token) is { } line)
            {
                if (ReplyOverride?.Invoke(line) is { } reply)
                {
                    await writer.WriteLineAsync(reply);
                    continue;
                }

                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 localhost");
                        break;
                    case "MAIL":
                        mailFrom = Address(line);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "RCPT":
                        recipients.Add(Address(line));
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stopping.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                        }

                        var message = await MimeMessage.LoadAsync(new MemoryStream(Encoding.Latin1.GetBytes(data.ToString())));
                        var mail = new ReceivedMail(mailFrom ?? "", [.. recipients], message);
                        lock (_received)
                        {
                            _received.Add(mail);
                        }

                        _inbox.Writer.TryWrite(mail);
                        await writer.WriteLineAsync("250 OK: queued");
                        break;
                    case "RSET":
                        mailFrom = null;
                        recipients.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "NOOP":
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 Bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client went away.
        }
    }

    /// <summary>The address between the angle brackets of <c>MAIL FROM:&lt;…&gt;</c> or <c>RCPT TO:&lt;…&gt;</c>.</summary>
    private static string Address(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? line[(start + 1)..end] : "";
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }
}
