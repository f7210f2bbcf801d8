using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Accounts.Api.Email;

/// <summary>Settings under <c>Webhooks</c>: the receivers of events.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    public List<WebhookEndpointOptions> Endpoints { get; set; } = [];

    /// <summary>How long one POST may take, connecting included, before it counts as a failed attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The rules of <c>Webhooks</c>; every message names its key.</summary>
    internal sealed class Validator(IEnumerable<WebhookEventCatalog> catalogs) : IValidateOptions<WebhookOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebhookOptions options)
        {
            var known = catalogs.SelectMany(c => c.Types).ToHashSet(StringComparer.Ordinal);
            var failures = new List<string>();
            if (options.Timeout <= TimeSpan.Zero)
            {
                failures.Add("Webhooks:Timeout must be positive.");
            }

            for (var i = 0; i < options.Endpoints.Count; i++)
            {
                var endpoint = options.Endpoints[i];
                var key = $"Webhooks:Endpoints:{i}";
                if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || url.UserInfo.Length > 0)
                {
                    failures.Add($"{key}:Url '{endpoint.Url}' must be an absolute http or https URL without a user name or password.");
                }

                if (WebhookSigner.Validate(endpoint.Secret) is { } problem)
                {
                    failures.Add($"{key}:Secret {problem}");
                }

                for (var j = 0; j < (endpoint.Events?.Count ?? 0); j++)
                {
                    if (!known.Contains(endpoint.Events![j]))
                    {
                        failures.Add($"{key}:Events:{j} '{endpoint.Events[j]}' is not an event; the events are {string.Join(", ", known.Order(StringComparer.Ordinal))}.");
                    }
                }
            }

            var duplicates = options.Endpoints.GroupBy(e => e.Url, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (duplicates.Count > 0)
            {
                failures.Add($"Webhooks:Endpoints lists {string.Join(", ", duplicates)} more than once; give one endpoint every event it wants.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>One receiver: where events go, the <c>whsec_…</c> secret they are signed with, and which events (none listed: all).</summary>
public sealed class WebhookEndpointOptions
{
    public string? Url { get; set; }

    /// <summary>Comes from the environment or a secret store; never from a committed file.</summary>
    public string? Secret { get; set; }

    public List<string>? Events { get; set; }
}

/// <summary>The event types a feature announces; endpoints may name only these (a feature registers its own).</summary>
public sealed record WebhookEventCatalog(IReadOnlyList<string> Types);

/// <summary>
/// Writes events to the outbox inside the caller's write, one row per endpoint that wants the
/// type, so an event commits or rolls back with the change it announces. The body is made now,
/// from what the change wrote; delivery only signs and sends it.
/// </summary>
public sealed class WebhookEvents(IOptions<WebhookOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Whether any endpoint wants <paramref name="type"/> (when none does, the caller need not read what the event would say).</summary>
    public bool Wanted(string type) => options.Value.Endpoints.Any(e => Wants(e, type));

    /// <summary>Queues <paramref name="type"/> with <paramref name="data"/> for every endpoint that wants it; returns how many rows.</summary>
    public async Task<int> QueueAsync(DbSession session, string type, Guid userId, object data, DateTimeOffset now)
    {
        var queued = 0;
        string? body = null;
        foreach (var endpoint in options.Value.Endpoints.Where(e => Wants(e, type)))
        {
            body ??= JsonSerializer.Serialize(new { type, timestamp = now.ToUniversalTime(), data }, Json);
            await session.Outbox.AddAsync(
                new NewOutboxMessage(type, [endpoint.Url!], userId, "")
                {
                    Transport = OutboxTransports.Webhook,
                    Payload = body,
                    WebhookId = $"msg_{Guid.CreateVersion7(now):N}",
                },
                now);
            queued++;
        }

        return queued;
    }

    private static bool Wants(WebhookEndpointOptions endpoint, string type) => endpoint.Events is not { Count: > 0 } events || events.Contains(type);
}

/// <summary>Standard Webhooks signatures with the maintained <c>StandardWebhooks</c> package, and the checks of a secret.</summary>
internal static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>What is wrong with <paramref name="secret"/>, or null: it must be <c>whsec_</c> and base64 of 24 to 64 random bytes.</summary>
    public static string? Validate(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return "is required (whsec_ and the base64 of 24 to 64 random bytes; set it from the environment or a secret store).";
        }

        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return $"must start with '{SecretPrefix}'.";
        }

        var bytes = new byte[secret.Length];
        return Convert.TryFromBase64String(secret[SecretPrefix.Length..], bytes, out var length) && length is >= 24 and <= 64
            ? null
            : "must be whsec_ and the base64 of 24 to 64 random bytes.";
    }

    /// <summary>The <c>webhook-signature</c> header's value: <c>v1,</c> and the HMAC-SHA256 over <c>id.timestamp.body</c>.</summary>
    public static string Sign(string secret, string id, DateTimeOffset timestamp, string body) =>
        new StandardWebhook(secret).Sign(id, timestamp, body);
}

/// <summary>
/// POSTs one webhook row to its endpoint with <see cref="IHttpClientFactory"/>'s client, signed at
/// the moment of sending (the timestamp is the attempt's, as receivers check it against their
/// clock; the <c>webhook-id</c> is the row's, the same on every attempt). A 2xx is delivered; a 4xx
/// other than 408 and 429, and a redirect, are permanent; anything else, 5xx, 408, 429, a timeout or
/// a network error, is retried, no sooner than a <c>Retry-After</c> asks.
/// </summary>
public sealed partial class WebhookTransport(IHttpClientFactory clients, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string HttpClientName = "webhooks";

    /// <summary>The longest <c>Retry-After</c> honoured; a receiver asking for more is tried again after this.</summary>
    internal static readonly TimeSpan LongestRetryAfter = TimeSpan.FromDays(1);

    /// <summary>Sends <paramref name="message"/>: delivered, or the failure; an endpoint no longer configured is <see cref="WebhookResult.Gone"/>.</summary>
    public async Task<WebhookResult> SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var url = message.Recipients.Count == 1 ? message.Recipients[0] : null;
        var endpoint = options.Value.Endpoints.FirstOrDefault(e => string.Equals(e.Url, url, StringComparison.Ordinal));
        if (endpoint is null || message.Payload is null || message.WebhookId is null)
        {
            return WebhookResult.Gone;
        }

        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(message.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", message.WebhookId);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSigner.Sign(endpoint.Secret!, message.WebhookId, now, message.Payload));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                return WebhookResult.Delivered;
            }

            var reason = $"HTTP {status} {response.ReasonPhrase} from {endpoint.Url}";
            var permanent = status is >= 300 and < 400 || status is >= 400 and < 500 && status is not (408 or 429);
            return new WebhookResult(new DeliveryFailure(permanent, permanent && status < 400 ? reason + " (redirects are not followed: configure the final URL)" : reason)
            {
                RetryAfter = permanent ? null : RetryAfter(response.Headers.RetryAfter, now),
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookResult(new DeliveryFailure(false, $"No answer from {endpoint.Url} within {options.Value.Timeout.TotalSeconds:0} s"));
        }
        catch (HttpRequestException ex)
        {
            return new WebhookResult(new DeliveryFailure(false, $"POST to {endpoint.Url} failed: {ex.Message}"));
        }
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        var wait = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        return wait is { } w && w > TimeSpan.Zero ? (w < LongestRetryAfter ? w : LongestRetryAfter) : null;
    }
}

/// <summary>What became of one POST: delivered, failed (and how), or nothing to send (its endpoint is no longer configured).</summary>
public sealed record WebhookResult(DeliveryFailure? Failure, bool EndpointGone = false)
{
    public static readonly WebhookResult Delivered = new(Failure: null);

    public static readonly WebhookResult Gone = new(Failure: null, EndpointGone: true);
}

/// <summary>Registers the webhook transport: its options, the event writer and the HTTP client.</summary>
public static class WebhookExtensions
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddValidatedOptions<WebhookOptions, WebhookOptions.Validator>(WebhookOptions.SectionName);
        services.AddSingleton<WebhookEvents>();
        services.AddSingleton<WebhookTransport>();
        services.AddHttpClient(WebhookTransport.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan; // each send has its own (Webhooks:Timeout)
                client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Accounts-Webhooks", "1.0"));
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });
        return services;
    }
}
