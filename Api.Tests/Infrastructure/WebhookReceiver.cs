using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// A real HTTP receiver of webhooks on loopback (<c>Api.Tests/Node/webhook-receiver.mjs</c>) that
/// verifies every delivery with the npm <c>standardwebhooks</c> package, a check we did not write,
/// and fails the deliveries it is told to. Killed on dispose.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _client;

    private WebhookReceiver(Process process, int port, string secret)
    {
        _process = process;
        Secret = secret;
        Url = new Uri($"http://127.0.0.1:{port}/hooks/accounts");
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    /// <summary>The <c>whsec_…</c> secret the receiver verifies with (a new random one each start).</summary>
    public string Secret { get; }

    public Uri Url { get; }

    /// <param name="port">The loopback port to listen on (0: any free one).</param>
    public static async Task<WebhookReceiver> StartAsync(string? secret = null, int port = 0)
    {
        await NodeTools.EnsureInstalledAsync();
        secret ??= "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = NodeTools.Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("webhook-receiver.mjs");
        start.ArgumentList.Add(secret);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node webhook-receiver.mjs.");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"webhook-receiver.mjs did not start: {line} {await process.StandardError.ReadToEndAsync(timeout.Token)}");
            }

            return new WebhookReceiver(process, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture), secret);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>The next deliveries are answered with these statuses (and <c>Retry-After</c> values, when given), in order.</summary>
    public async Task FailNextAsync(params (int Status, string? RetryAfter)[] failures)
    {
        var response = await _client.PostAsJsonAsync("_plan", new { failures = failures.Select(f => new { status = f.Status, retryAfter = f.RetryAfter }) });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The next delivery gets no answer at all: the sender's request hangs until it gives up.</summary>
    public async Task HangNextAsync()
    {
        var response = await _client.PostAsJsonAsync("_plan", new { failures = new[] { new { hang = true } } });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every delivery so far, in the order they arrived.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ReceivedAsync() =>
        await _client.GetFromJsonAsync<List<WebhookDelivery>>("_received") ?? [];

    /// <summary>Waits until <paramref name="count"/> deliveries were answered 2xx; returns them.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> WaitForDeliveredAsync(int count, TimeSpan? timeout = null)
    {
        IReadOnlyList<WebhookDelivery> delivered = [];
        await Eventually.TrueAsync(
            async () => (delivered = [.. (await ReceivedAsync()).Where(d => d.Answered is >= 200 and < 300)]).Count >= count,
            $"{count} webhook(s) are delivered",
            timeout ?? TimeSpan.FromSeconds(20));
        return delivered;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}

/// <summary>One delivery as the receiver saw it (answered 0: it was left hanging): its headers' id and timestamp, when it came (Unix ms), whether the signature verified, what it answered, and the body.</summary>
public sealed record WebhookDelivery(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("timestamp")] string? Timestamp,
    [property: JsonPropertyName("receivedAt")] long ReceivedAt,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("verified")] bool Verified,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("answered")] int Answered,
    [property: JsonPropertyName("body")] JsonElement? Body)
{
    public string Type => Body?.GetProperty("type").GetString() ?? "";

    public string Username => Body?.GetProperty("data").GetProperty("username").GetString() ?? "";
}
