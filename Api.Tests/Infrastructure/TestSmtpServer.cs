using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// A mail the test SMTP server accepted: the envelope, the message as the client sent it, how the
/// session was held, and when. What MimeKit reads in it is in <c>ReceivedMail.cs</c>, beside this
/// file: the benchmarks compile this one alone, without MimeKit or xunit.
/// </summary>
public sealed partial class ReceivedMail(
    string mailFrom, IReadOnlyList<string> recipients, byte[] data, string? authenticatedAs, bool secure, DateTimeOffset receivedAt)
{
    public string MailFrom { get; } = mailFrom;

    public IReadOnlyList<string> Recipients { get; } = recipients;

    /// <summary>The message's bytes (headers and body) as sent after DATA, without the dot stuffing and the final dot.</summary>
    public byte[] Data { get; } = data;

    public string? AuthenticatedAs { get; } = authenticatedAs;

    /// <summary>Whether the message came over TLS.</summary>
    public bool Secure { get; } = secure;

    /// <summary>When the server accepted the message, just before its 250 reply.</summary>
    public DateTimeOffset ReceivedAt { get; } = receivedAt;
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
/// A small ESMTP server on loopback that accepts every mail, for tests and benchmarks that send
/// through MailKit over real TCP. It keeps each accepted message, to be awaited with a timeout, or
/// (<c>keepMail: false</c>, for benchmarks) only counts them. It answers all the commands of one
/// read in one write, with TCP_NODELAY, as a real server does with pipelined commands. It can speak
/// TLS (implicit or STARTTLS) with a given certificate, require AUTH PLAIN or LOGIN, stop and start
/// listening on the same port, hold its greetings, delay every reply, and misbehave on demand (see
/// the hooks).
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private static readonly byte[] Ok = "250 OK\r\n"u8.ToArray();
    private static readonly byte[] StartData = "354 End data with <CR><LF>.<CR><LF>\r\n"u8.ToArray();
    private static readonly byte[] Queued = "250 OK: queued\r\n"u8.ToArray();

    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Socket, byte> _sessions = new();
    private readonly TestSmtpTls _tls;
    private readonly X509Certificate2? _certificate;
    private readonly string? _username;
    private readonly string? _password;
    private readonly string[] _mechanisms;
    private readonly bool _keepMail;
    private readonly Lock _listening = new();

    /// <summary>Guards the mail kept, the count and those waiting for them.</summary>
    private readonly Lock _mail = new();
    private readonly List<ReceivedMail> _received = [];

    /// <summary>The mails <see cref="WaitForMailAsync"/> has handed out.</summary>
    private readonly HashSet<ReceivedMail> _returned = new(ReferenceEqualityComparer.Instance);

    /// <summary>Waits of <see cref="WaitForCountAsync"/>: each completes when that many mails have been accepted.</summary>
    private readonly List<(long Count, TaskCompletionSource Reached)> _countWaits = [];

    /// <summary>Completed at the next mail, for a <see cref="WaitForMailAsync"/> that found none yet.</summary>
    private TaskCompletionSource? _arrival;
    private long _accepted;
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _dataCount;
    private int _connections;
    private int _disposed;

    /// <param name="port">0 for any free port.</param>
    /// <param name="certificate">Required for <see cref="TestSmtpTls.Implicit"/> and <see cref="TestSmtpTls.StartTls"/>; must have its private key.</param>
    /// <param name="username">When set, MAIL is refused until the client authenticates with it and <paramref name="password"/>.</param>
    /// <param name="mechanisms">The SASL mechanisms offered (PLAIN, LOGIN).</param>
    /// <param name="keepMail">
    /// False keeps nothing of a message but the count (and what <see cref="MailAccepted"/> takes):
    /// <see cref="Received"/> stays empty, so a benchmark's 100,000 mails hold no memory.
    /// </param>
    public TestSmtpServer(
        int port = 0,
        TestSmtpTls tls = TestSmtpTls.None,
        X509Certificate2? certificate = null,
        string? username = null,
        string? password = null,
        string[]? mechanisms = null,
        bool keepMail = true)
    {
        _tls = tls;
        _certificate = certificate;
        _username = username;
        _password = password;
        _mechanisms = mechanisms ?? ["PLAIN", "LOGIN"];
        _keepMail = keepMail;
        Port = port;
        StartListening();
    }

    public int Port { get; private set; }

    /// <summary>How many TCP connections the server has accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>How many messages the server has accepted (250 to the end of DATA), kept or not.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

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

    /// <summary>Called with each mail accepted, in its session, before the reply (and before the count that wakes the waits moves).</summary>
    public Action<ReceivedMail>? MailAccepted { get; set; }

    /// <summary>Called as each session opens: its greeting waits for the task (a server that accepts connections and greets none yet).</summary>
    public Func<Task>? BeforeGreeting { get; set; }

    /// <summary>A simulated network round trip: every write of replies, the greeting included, waits this long.</summary>
    public TimeSpan ReplyDelay { get; set; }

    /// <summary>Answers nothing to an AUTH with wrong credentials (until the client hangs up), as relays that stall on a bad password do.</summary>
    public bool StallOnBadCredentials { get; set; }

    /// <summary>Every mail kept so far, in order.</summary>
    public IReadOnlyList<ReceivedMail> Received
    {
        get
        {
            lock (_mail)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Stops listening and drops every open session: the server is down.</summary>
    public async Task StopListeningAsync()
    {
        Task loop;
        lock (_listening)
        {
            _listener?.Stop();
            _listener = null;
            loop = _acceptLoop;
        }

        await loop;
        foreach (var session in _sessions.Keys)
        {
            session.Close(0); // a reset; a session that has ended meanwhile is closed already
        }
    }

    /// <summary>Listens again on the same port.</summary>
    public void StartListening()
    {
        lock (_listening)
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
                lock (_mail)
                {
                    var mail = _received.FirstOrDefault(m => !_returned.Contains(m)
                        && (recipient is null || m.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase)));
                    if (mail is not null)
                    {
                        _returned.Add(mail);
                        return mail;
                    }

                    arrival = (_arrival ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
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

    /// <summary>Waits until <paramref name="count"/> mails have been accepted in all; returns those kept.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitForCountAsync(long count, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        Task reached;
        lock (_mail)
        {
            if (_accepted >= count)
            {
                return [.. _received];
            }

            var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _countWaits.Add((count, wait));
            reached = wait.Task;
        }

        try
        {
            await reached.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Only {Accepted} of {count} mails arrived within {limit}.");
        }

        return Received;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // StopListeningAsync
            }

            // Each batch of replies is one small write: without this, Nagle's algorithm holds one
            // back until the client's delayed ACK (tens of ms), which a real server never meets.
            socket.NoDelay = true;
            Interlocked.Increment(ref _connections);
            _sessions.TryAdd(socket, 0);
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var cancel = _stopping.Token;
        await using var session = new Session(this, socket);
        string? authenticated = null;
        try
        {
            if (_tls == TestSmtpTls.Implicit)
            {
                await session.SecureAsync(Certificate(), cancel);
            }

            if (BeforeGreeting is { } greeting)
            {
                await greeting().WaitAsync(cancel);
            }

            session.Reply("220 localhost test SMTP ready");
            var mailFrom = "";
            var recipients = new List<string>();
            while (await session.ReadLineAsync(cancel) is { } line)
            {
                if (ReplyOverride?.Invoke(line) is { } reply)
                {
                    session.Reply(reply);
                    continue;
                }

                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                var offerAuth = _username is not null && (session.Secure || _tls == TestSmtpTls.None);
                switch (verb)
                {
                    case "EHLO":
                        session.Reply("250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                            + (_tls == TestSmtpTls.StartTls && !session.Secure ? "250-STARTTLS\r\n" : "")
                            + (offerAuth ? $"250-AUTH {string.Join(' ', _mechanisms)}\r\n" : "")
                            + "250 PIPELINING");
                        break;
                    case "HELO":
                        session.Reply("250 localhost");
                        break;
                    case "STAR" when line.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase) && _tls == TestSmtpTls.StartTls && !session.Secure:
                        session.Reply("220 2.0.0 Ready to start TLS");
                        await session.SecureAsync(Certificate(), cancel);
                        break;
                    case "AUTH" when offerAuth:
                        authenticated = await AuthenticateAsync(line, session, cancel);
                        if (authenticated is null && StallOnBadCredentials)
                        {
                            // As some relays do: no answer at all, until the client gives up and hangs up.
                            await session.FlushAsync(cancel);
                            await session.ReadLineAsync(cancel);
                            return;
                        }

                        session.Reply(authenticated is null
                            ? "535 5.7.8 Authentication credentials invalid"
                            : "235 2.7.0 Authentication successful");
                        break;
                    case "MAIL" when _username is not null && authenticated is null:
                        session.Reply("530 5.7.0 Authentication required");
                        break;
                    case "MAIL":
                        mailFrom = Address(line);
                        recipients.Clear();
                        session.Reply(Ok);
                        break;
                    case "RCPT":
                        recipients.Add(Address(line));
                        session.Reply(Ok);
                        break;
                    case "DATA":
                        var number = Interlocked.Increment(ref _dataCount);
                        session.Reply(StartData);
                        if (DropInData?.Invoke(number) == true)
                        {
                            await session.ReadLineAsync(cancel);
                            socket.Close(0); // a reset in the middle of the body
                            return;
                        }

                        var record = _keepMail || MailAccepted is not null;
                        if (await session.ReadDataAsync(record, cancel) is not { } data)
                        {
                            return; // the client went away in the middle of the body
                        }

                        if (DataReply is { } hook && await hook(number) is { } refusal)
                        {
                            session.Reply(refusal);
                            break;
                        }

                        Accept(record ? new ReceivedMail(mailFrom, [.. recipients], data, authenticated, session.Secure, DateTimeOffset.UtcNow) : null);
                        recipients.Clear();
                        session.Reply(Queued);
                        break;
                    case "RSET":
                        mailFrom = "";
                        recipients.Clear();
                        session.Reply(Ok);
                        break;
                    case "NOOP":
                        session.Reply(Ok);
                        break;
                    case "QUIT":
                        session.Reply("221 Bye");
                        await session.FlushAsync(cancel);
                        return;
                    default:
                        session.Reply("502 Command not implemented");
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
            _sessions.TryRemove(socket, out _);
        }
    }

    private void Accept(ReceivedMail? mail)
    {
        if (mail is not null)
        {
            MailAccepted?.Invoke(mail);
        }

        lock (_mail)
        {
            if (mail is not null && _keepMail)
            {
                _received.Add(mail);
            }

            _accepted++;
            _arrival?.SetResult();
            _arrival = null;
            for (var i = _countWaits.Count - 1; i >= 0; i--)
            {
                if (_countWaits[i].Count <= _accepted)
                {
                    _countWaits[i].Reached.SetResult();
                    _countWaits.RemoveAt(i);
                }
            }
        }
    }

    private X509Certificate2 Certificate() => _certificate ?? throw new InvalidOperationException("TLS needs a certificate.");

    /// <summary>AUTH PLAIN (with or without an initial response) or AUTH LOGIN; returns the user, or null when refused.</summary>
    private async Task<string?> AuthenticateAsync(string line, Session session, CancellationToken cancel)
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
            var response = parts.Length > 2 ? parts[2] : await session.ChallengeAsync("", cancel);
            var fields = Decode(response)?.Split('\0');
            (user, password) = fields is { Length: 3 } ? (fields[1], fields[2]) : (null, null);
        }
        else
        {
            user = Decode(parts.Length > 2 ? parts[2] : await session.ChallengeAsync("VXNlcm5hbWU6", cancel));
            password = Decode(await session.ChallengeAsync("UGFzc3dvcmQ6", cancel));
        }

        return user == _username && password == _password ? user : null;
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

    /// <summary>
    /// One client's connection: commands read line by line from what has arrived, replies gathered
    /// and written together when the client has said all it had to say (before waiting for more).
    /// </summary>
    private sealed class Session(TestSmtpServer server, Socket socket) : IAsyncDisposable
    {
        private static readonly byte[] EndOfData = "\r\n.\r\n"u8.ToArray();

        private readonly ArrayBufferWriter<byte> _replies = new(256);
        private Stream _stream = new NetworkStream(socket, ownsSocket: true);
        private PipeReader? _input;

        /// <summary>What has arrived and is not read yet: the held buffer of the last read.</summary>
        private ReadOnlySequence<byte> _buffer;
        private bool _holding;
        private bool _ended;

        public bool Secure { get; private set; }

        private PipeReader Input => _input ??= PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));

        public void Reply(ReadOnlySpan<byte> line) => _replies.Write(line);

        /// <summary>A reply of one or more lines, without the final CRLF.</summary>
        public void Reply(string text)
        {
            Encoding.Latin1.GetBytes(text, _replies);
            _replies.Write("\r\n"u8);
        }

        public async ValueTask FlushAsync(CancellationToken cancel)
        {
            if (_replies.WrittenCount == 0)
            {
                return;
            }

            if (server.ReplyDelay > TimeSpan.Zero)
            {
                await Task.Delay(server.ReplyDelay, cancel);
            }

            await _stream.WriteAsync(_replies.WrittenMemory, cancel);
            _replies.ResetWrittenCount();
        }

        /// <summary>The next command line (Latin-1 maps bytes to chars one to one), or null when the client has closed.</summary>
        public async ValueTask<string?> ReadLineAsync(CancellationToken cancel)
        {
            while (true)
            {
                if (TryTakeLine() is { } line)
                {
                    return line;
                }

                if (!await ReadMoreAsync(cancel))
                {
                    return null;
                }
            }
        }

        /// <summary>The message after DATA up to the line with a lone dot, unstuffed (an empty array when not <paramref name="copy"/>), or null when the client has closed.</summary>
        public async ValueTask<byte[]?> ReadDataAsync(bool copy, CancellationToken cancel)
        {
            while (true)
            {
                if (TryTakeData(copy) is { } data)
                {
                    return data;
                }

                if (!await ReadMoreAsync(cancel))
                {
                    return null;
                }
            }
        }

        public async ValueTask<string> ChallengeAsync(string challenge, CancellationToken cancel)
        {
            Reply($"334 {challenge}");
            return await ReadLineAsync(cancel) ?? "";
        }

        /// <summary>TLS from here on: what is queued goes out in the clear first (the 220 to STARTTLS).</summary>
        public async ValueTask SecureAsync(X509Certificate2 certificate, CancellationToken cancel)
        {
            await FlushAsync(cancel);
            if (_input is not null)
            {
                // The client sends nothing more in the clear until the handshake: nothing is left unread.
                if (_holding)
                {
                    _input.AdvanceTo(_buffer.End);
                    _holding = false;
                }

                await _input.CompleteAsync();
                _input = null;
                _buffer = default;
            }

            var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
            _stream = tls;
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, cancel);
            Secure = true;
        }

        /// <summary>Waits for more from the client, having answered what it asked so far; false when it has closed.</summary>
        private async ValueTask<bool> ReadMoreAsync(CancellationToken cancel)
        {
            if (_holding)
            {
                Input.AdvanceTo(_buffer.Start, _buffer.End);
                _holding = false;
            }

            if (_ended)
            {
                return false;
            }

            await FlushAsync(cancel);
            var result = await Input.ReadAsync(cancel);
            _buffer = result.Buffer;
            _holding = true;
            _ended = result.IsCompleted;
            return true;
        }

        private string? TryTakeLine()
        {
            var reader = new SequenceReader<byte>(_buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
            {
                return null;
            }

            _buffer = _buffer.Slice(reader.Position);
            return Encoding.Latin1.GetString(line);
        }

        private byte[]? TryTakeData(bool copy)
        {
            var reader = new SequenceReader<byte>(_buffer);
            ReadOnlySequence<byte> message;
            if (reader.IsNext(".\r\n"u8, advancePast: true))
            {
                message = ReadOnlySequence<byte>.Empty;
            }
            else if (reader.TryReadTo(out ReadOnlySequence<byte> beforeEnd, EndOfData, advancePastDelimiter: true))
            {
                message = _buffer.Slice(0, beforeEnd.Length + 2); // the last line's CRLF is the message's
            }
            else
            {
                return null;
            }

            var data = copy ? Unstuff(message) : [];
            _buffer = _buffer.Slice(reader.Position);
            return data;
        }

        /// <summary>Takes off the dot a client puts before every line that begins with one (RFC 5321, 4.5.2).</summary>
        private static byte[] Unstuff(ReadOnlySequence<byte> message)
        {
            var bytes = message.ToArray();
            var length = 0;
            var lineStart = true;
            foreach (var b in bytes)
            {
                if (lineStart && b == (byte)'.')
                {
                    lineStart = false;
                    continue;
                }

                bytes[length++] = b;
                lineStart = b == (byte)'\n';
            }

            return length == bytes.Length ? bytes : bytes[..length];
        }

        public async ValueTask DisposeAsync()
        {
            if (_input is not null)
            {
                await _input.CompleteAsync();
            }

            await _stream.DisposeAsync();
        }
    }
}
