using System.Net.Sockets;
using System.Text;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>One HTTP/1.1 response as it came off the wire.</summary>
public sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    public string? Header(string name) =>
        Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public override string ToString() => $"{Status} {Header("Content-Type")} {Body}";
}

/// <summary>
/// Requests written byte for byte over a fresh TCP connection, for the headers and framing that
/// HttpClient will not send: doubled or malformed headers, bytes outside ASCII, a body shorter or
/// longer than its Content-Length, several transfer codings.
/// </summary>
public static class RawHttp
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A POST with <c>Connection: close</c> and the given headers (a name may repeat); a
    /// Content-Length for <paramref name="body"/> is added unless a header frames the body already.
    /// Header values are written as Latin-1, so a value may carry any byte.
    /// </summary>
    public static byte[] Post(string path, byte[] body, params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (!headers.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
            || h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    /// <summary><paramref name="body"/> as one chunk and the last, empty one.</summary>
    public static byte[] Chunked(byte[] body) =>
        [.. Encoding.ASCII.GetBytes($"{body.Length:x}\r\n"), .. body, .. "\r\n0\r\n\r\n"u8];

    /// <summary>
    /// Writes <paramref name="request"/>, then reads every response until the server closes the
    /// connection. With <paramref name="endOfInput"/> the client's side is shut after writing, as
    /// a client that gives up in the middle of a body does. A write the server cut short is not an
    /// error: what it answered before closing is still read.
    /// </summary>
    public static async Task<IReadOnlyList<RawResponse>> SendAsync(Uri server, byte[] request, bool endOfInput = false)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, timeout.Token);
            if (endOfInput)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server answered and closed before taking the whole request (a 413, a 431).
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the response: what arrived is kept.
        }

        return Parse(received.ToArray());
    }

    /// <summary>Sends <paramref name="request"/> in part and resets the connection, as a client that crashes mid-body.</summary>
    public static async Task AbortAsync(Uri server, byte[] request)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var client = new TcpClient { LingerState = new LingerOption(true, 0) };
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        await client.GetStream().WriteAsync(request, timeout.Token);
        client.Client.Close(); // linger 0: RST instead of FIN
    }

    private static List<RawResponse> Parse(byte[] bytes)
    {
        var responses = new List<RawResponse>();
        var position = 0;
        while (position < bytes.Length)
        {
            var end = IndexOf(bytes, "\r\n\r\n"u8, position);
            if (end < 0)
            {
                throw new InvalidDataException($"An incomplete response: {Encoding.Latin1.GetString(bytes, position, bytes.Length - position)}");
            }

            var lines = Encoding.Latin1.GetString(bytes, position, end - position).Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var headers = lines.Skip(1)
                .Select(line => line.Split(':', 2))
                .Select(parts => KeyValuePair.Create(parts[0].Trim(), parts[1].Trim()))
                .ToList();
            position = end + 4;

            var body = new MemoryStream();
            var length = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => int.Parse(h.Value, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault(-1);
            if (headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
            {
                while (true)
                {
                    var lineEnd = IndexOf(bytes, "\r\n"u8, position);
                    var size = Convert.ToInt32(Encoding.ASCII.GetString(bytes, position, lineEnd - position).Split(';')[0], 16);
                    position = lineEnd + 2;
                    if (size == 0)
                    {
                        position = IndexOf(bytes, "\r\n"u8, position) + 2; // no trailers are sent
                        break;
                    }

                    body.Write(bytes, position, size);
                    position += size + 2;
                }
            }
            else
            {
                var size = length >= 0 ? length : bytes.Length - position;
                body.Write(bytes, position, size);
                position += size;
            }

            responses.Add(new RawResponse(status, headers, Encoding.UTF8.GetString(body.ToArray())));
        }

        return responses;
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> value, int start)
    {
        var index = bytes.AsSpan(start).IndexOf(value);
        return index < 0 ? -1 : start + index;
    }
}
