using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Accounts.Bench;

/// <summary>
/// A fast SMTP sink on loopback: it speaks just enough ESMTP (with PIPELINING) for MailKit, accepts
/// every message, keeps nothing but a count, and answers each read's commands in one write.
/// </summary>
public sealed class SinkSmtpServer : IAsyncDisposable
{
    private static readonly byte[] Greeting = "220 sink ready\r\n"u8.ToArray();
    private static readonly byte[] Ehlo = "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"u8.ToArray();
    private static readonly byte[] Ok = "250 OK\r\n"u8.ToArray();
    private static readonly byte[] StartData = "354 go ahead\r\n"u8.ToArray();
    private static readonly byte[] Bye = "221 bye\r\n"u8.ToArray();
    private static readonly byte[] EndOfData = "\r\n.\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private long _messages;
    private long _connections;
    private long _target = long.MaxValue;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SinkSmtpServer()
    {
        _listener.Start(backlog: 512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public long Messages => Interlocked.Read(ref _messages);

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>A simulated network round trip: every batch of replies waits this long before it is written.</summary>
    public TimeSpan RoundTrip { get; set; }

    /// <summary>Resets the counts; the returned task completes when <paramref name="target"/> messages have arrived.</summary>
    public Task Expect(long target)
    {
        Interlocked.Exchange(ref _messages, 0);
        Interlocked.Exchange(ref _connections, 0);
        _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _target, target);
        return _reached.Task;
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream);
        var replies = new ArrayBufferWriter<byte>(256);
        try
        {
            await DelayAsync();
            await stream.WriteAsync(Greeting, _stopping.Token);
            var inData = false;
            var quit = false;
            while (!quit)
            {
                var result = await reader.ReadAsync(_stopping.Token);
                var sequence = new SequenceReader<byte>(result.Buffer);
                while (!quit)
                {
                    if (inData)
                    {
                        if (!sequence.TryReadTo(out ReadOnlySequence<byte> _, EndOfData, advancePastDelimiter: true))
                        {
                            break;
                        }

                        inData = false;
                        replies.Write(Ok);
                        if (Interlocked.Increment(ref _messages) == Interlocked.Read(ref _target))
                        {
                            _reached.TrySetResult();
                        }

                        continue;
                    }

                    if (!sequence.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
                    {
                        break;
                    }

                    var verb = Verb(line);
                    switch (verb)
                    {
                        case "EHLO":
                            replies.Write(Ehlo);
                            break;
                        case "DATA":
                            replies.Write(StartData);
                            inData = true;
                            // The terminator search starts at the body, which may begin with its own CRLF.
                            sequence.Rewind(2);
                            break;
                        case "QUIT":
                            replies.Write(Bye);
                            quit = true;
                            break;
                        default:
                            replies.Write(Ok);
                            break;
                    }
                }

                reader.AdvanceTo(sequence.Position, result.Buffer.End);
                if (replies.WrittenCount > 0)
                {
                    await DelayAsync();
                    await stream.WriteAsync(replies.WrittenMemory, _stopping.Token);
                    replies.ResetWrittenCount();
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private Task DelayAsync() => RoundTrip > TimeSpan.Zero ? Task.Delay(RoundTrip, _stopping.Token) : Task.CompletedTask;

    private static string Verb(ReadOnlySequence<byte> line)
    {
        Span<byte> head = stackalloc byte[4];
        if (line.Length < 4)
        {
            return "";
        }

        line.Slice(0, 4).CopyTo(head);
        for (var i = 0; i < 4; i++)
        {
            head[i] = (byte)(head[i] & 0xDF); // upper case
        }

        return head.SequenceEqual("EHLO"u8) ? "EHLO"
            : head.SequenceEqual("DATA"u8) ? "DATA"
            : head.SequenceEqual("QUIT"u8) ? "QUIT"
            : "";
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }
}
