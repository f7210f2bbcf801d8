using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using MimeKit;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>A mail the test SMTP server accepted: the envelope, the parsed message, and how the session was held.</summary>
public sealed record ReceivedMail(
    string MailFrom, IReadOnlyList<string> Recipients, MimeMessage Message, string? AuthenticatedAs = null, bool Secure = false)
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

/// <summary>How the test SMTP server protects its sessions.</summary>
public enum TestSmtpTls
{
    /// <summary>Plain text only.</summary>
    None,

    /// <summary>TLS from the first byte (port 465 style).</summary>
    Implicit,

    /// <summary>Plain text, offering STARTTLS (and AUTH only after it).</summary>
    StartTls,
}

/// <summary>
/// A small ESMTP server on loopback that accepts every mail, for tests that send through MailKit
/// over real TCP. Each accepted message is parsed with MimeKit and can be awaited with a timeout.
/// It can speak TLS (implicit or STARTTLS) with a given certificate, require AUTH PLAIN or LOGIN,
/// stop and start listening on the same port, and misbehave on demand (see the hooks).
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<ReceivedMail> _inbox = Channel.CreateUnbounded<ReceivedMail>();
    private readonly List<ReceivedMail> _received = [];

    /// <summary>The mails <see cref="WaitForMailAsync"/> has handed out (guarded by <see cref="_received"/>).</summary>
    private readonly HashSet<ReceivedMail> _returned = new(ReferenceEqualityComparer.Instance);

    /// <summary>Completed, and replaced, when a mail arrives (guarded by <see cref="_received"/>).</summary>
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<TcpClient, byte> _sessions = new();
    private readonly TestSmtpTls _tls;
    private readonly X509Certificate2? _certificate;
    private readonly string? _username;
    private readonly string? _password;
    private readonly string[] _mechanisms;
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _dataCount;
    private int _connections;
    private int _disposed;

    /// <param name="port">0 for any free port.</param>
    /// <param name="certificate">Required for <see cref="TestSmtpTls.Implicit"/> and <see cref="TestSmtpTls.StartTls"/>; must have its private key.</param>
    /// <param name="username">When set, MAIL is refused until the client authenticates with it and <paramref name="password"/>.</param>
    /// <param name="mechanisms">The SASL mechanisms offered (PLAIN, LOGIN).</param>
    public TestSmtpServer(
        int port = 0,
        TestSmtpTls tls = TestSmtpTls.None,
        X509Certificate2? certificate = null,
        string? username = null,
        string? password = null,
        string[]? mechanisms = null)
    {
        _tls = tls;
        _certificate = certificate;
        _username = username;
        _password = password;
        _mechanisms = mechanisms ?? ["PLAIN", "LOGIN"];
        Port = port;
        StartListening();
    }

    public int Port { get; private set; }

    /// <summary>How many TCP connections the server has accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>
    /// Replaces the server's reply to a command: called with each command line, it returns the
    /// reply to send instead (for example "550 5.1.1 No such user"), or null for the normal one.
    /// </summary>
    public Func<string, string?>? ReplyOverride { get; set; }

    /// <summary>
    /// Called with the 1-based number of each message body received (in all sessions), before the
    /// reply: it may wait (a slow server) and returns a reply to send instead of 250 (a 4xx or
    /// 5xx refuses the message), or null to accept it.
    /// </summary>
    public Func<int, Task<string?>>? DataReply { get; set; }

    /// <summary>Called with the number of each DATA command: true drops the connection in the middle of the body.</summary>
    public Func<int, bool>? DropInData { get; set; }

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

    /// <summary>Stops listening and drops every open session: the server is down.</summary>
    public async Task StopListeningAsync()
    {
        Task loop;
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            loop = _acceptLoop;
        }

        await loop;
        foreach (var session in _sessions.Keys)
        {
            // A session that ends meanwhile disposes its client, which sets Client to null.
            session.Client?.Close(0);
        }
    }

    /// <summary>Listens again on the same port.</summary>
    public void StartListening()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _acceptLoop = AcceptAsync(listener);
        }
    }

    /// <summary>
    /// Waits for the next mail to <paramref name="recipient"/> (any mail when null): the oldest one
    /// to that address that no earlier call returned. Mails to others stay for their own waits, so
    /// the order in which parallel connections deliver does not matter.
    /// </summary>
    public async Task<ReceivedMail> WaitForMailAsync(string? recipient = null, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                Task arrival;
                lock (_received)
                {
                    var mail = _received.FirstOrDefault(m => !_returned.Contains(m)
                        && (recipient is null || m.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase)));
                    if (mail is not null)
                    {
                        _returned.Add(mail);
                        return mail;
                    }

                    arrival = _arrival.Task;
                }

                await arrival.WaitAsync(cancellation.Token);
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

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // StopListeningAsync
            }

            Interlocked.Increment(ref _connections);
            _sessions.TryAdd(client, 0);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var session = client;
        Stream stream = client.GetStream();
        var secure = false;
        string? authenticated = null;
        try
        {
            if (_tls == TestSmtpTls.Implicit)
            {
                stream = await StartTlsAsync(stream);
                secure = true;
            }

            // Latin-1 maps bytes to chars one to one, so 8-bit bodies survive the round trip.
            var reader = new StreamReader(stream, Encoding.Latin1);
            var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
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
                var offerAuth = _username is not null && (secure || _tls == TestSmtpTls.None);
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                            + (_tls == TestSmtpTls.StartTls && !secure ? "250-STARTTLS\r\n" : "")
                            + (offerAuth ? $"250-AUTH {string.Join(' ', _mechanisms)}\r\n" : "")
                            + "250 PIPELINING\r\n");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 localhost");
                        break;
                    case "STAR" when line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase) && _tls == TestSmtpTls.StartTls && !secure:
                        await writer.WriteLineAsync("220 2.0.0 Ready to start TLS");
                        stream = await StartTlsAsync(stream);
                        secure = true;
                        reader = new StreamReader(stream, Encoding.Latin1);
                        writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
                        break;
                    case "AUTH" when offerAuth:
                        authenticated = await AuthenticateAsync(line, reader, writer);
                        await writer.WriteLineAsync(authenticated is null
                            ? "535 5.7.8 Authentication credentials invalid"
                            : "235 2.7.0 Authentication successful");
                        break;
                    case "MAIL" when _username is not null && authenticated is null:
                        await writer.WriteLineAsync("530 5.7.0 Authentication required");
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
                        var number = Interlocked.Increment(ref _dataCount);
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        if (DropInData?.Invoke(number) == true)
                        {
                            await reader.ReadLineAsync(_stopping.Token);
                            client.Client.Close(0); // a reset in the middle of the body
                            return;
                        }

                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stopping.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                        }

                        if (DataReply is { } hook && await hook(number) is { } refusal)
                        {
                            await writer.WriteLineAsync(refusal);
                            break;
                        }

                        var message = await MimeMessage.LoadAsync(new MemoryStream(Encoding.Latin1.GetBytes(data.ToString())));
                        var mail = new ReceivedMail(mailFrom ?? "", [.. recipients], message, authenticated, secure);
                        lock (_received)
                        {
                            _received.Add(mail);
                            _arrival.SetResult();
                            _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // The client went away, or the server was stopped under it.
        }
        finally
        {
            _sessions.TryRemove(client, out _);
            await stream.DisposeAsync();
        }
    }

    private async Task<Stream> StartTlsAsync(Stream stream)
    {
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions { ServerCertificate = _certificate ?? throw new InvalidOperationException("TLS needs a certificate.") },
            _stopping.Token);
        return ssl;
    }

    /// <summary>AUTH PLAIN (with or without an initial response) or AUTH LOGIN; returns the user, or null when refused.</summary>
    private async Task<string?> AuthenticateAsync(string line, StreamReader reader, StreamWriter writer)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var mechanism = parts.Length > 1 ? parts[1].ToUpperInvariant() : "";
        if (!_mechanisms.Contains(mechanism))
        {
            return null;
        }

        string? user;
        string? password;
        if (mechanism == "PLAIN")
        {
            var response = parts.Length > 2 ? parts[2] : await ChallengeAsync("", reader, writer);
            var fields = Decode(response)?.Split('\0');
            (user, password) = fields is { Length: 3 } ? (fields[1], fields[2]) : (null, null);
        }
        else
        {
            user = Decode(parts.Length > 2 ? parts[2] : await ChallengeAsync("VXNlcm5hbWU6", reader, writer));
            password = Decode(await ChallengeAsync("UGFzc3dvcmQ6", reader, writer));
        }

        return user == _username && password == _password ? user : null;
    }

    private async Task<string> ChallengeAsync(string challenge, StreamReader reader, StreamWriter writer)
    {
        await writer.WriteLineAsync($"334 {challenge}");
        return await reader.ReadLineAsync(_stopping.Token) ?? "";
    }

    private static string? Decode(string base64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return null;
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
        await StopListeningAsync();
        _stopping.Dispose();
    }
}
