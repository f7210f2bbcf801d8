using System.Collections.Frozen;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// What a request body may be: at most <see cref="MaxBodyBytes"/>, and on an endpoint that reads
/// JSON, JSON that can be read as its headers declare it.
/// </summary>
public static class RequestLimits
{
    /// <summary>No request body of this API comes near it; a larger one is refused with 413 before it is read.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    private const string NotJsonTitle = "The request body must be JSON (Content-Type: application/json).";

    /// <summary>The labels of UTF-8 in the WHATWG Encoding Standard, the ones browsers know; JSON is read in no other charset.</summary>
    private static readonly FrozenSet<string> Utf8Labels = FrozenSet.ToFrozenSet(
        ["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"], StringComparer.OrdinalIgnoreCase);

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        return builder;
    }

    /// <summary>
    /// On every endpoint that reads a JSON body, refuses a body that cannot be read as declared
    /// before the endpoint binds it: otherwise the framework throws while reading it (an unknown
    /// charset is an <see cref="InvalidOperationException"/>), which is a 500, or misreads it (a
    /// compressed body read as plain text). Runs after routing and before the endpoint.
    /// </summary>
    public static WebApplication UseJsonBodyChecks(this WebApplication app)
    {
        app.Use((context, next) => CheckJsonBody(context) is { } problem ? problem.ExecuteAsync(context) : next(context));
        return app;
    }

    /// <summary>
    /// Null when the request may go on: its endpoint reads no JSON, it has no body (bound as none,
    /// as the framework does), or its body is JSON in UTF-8, sent plainly. Else the problem: 400
    /// for a transfer coding besides <c>chunked</c>, 415 for a <c>Content-Encoding</c>, 415 for a
    /// <c>Content-Type</c> that is not exactly one well-formed JSON media type in UTF-8.
    /// </summary>
    private static IResult? CheckJsonBody(HttpContext context)
    {
        var request = context.Request;
        if (context.GetEndpoint() is not { } endpoint || !ReadsJson(endpoint) || !HasBody(context))
        {
            return null;
        }

        if (FramingError(request.Headers) is { } framing)
        {
            return Problems.BadRequest(ProblemCodes.BadRequest, "The request body's framing is not supported.", framing);
        }

        if (!IsIdentity(request.Headers.ContentEncoding))
        {
            // RFC 9110 §15.5.16: a 415 for a content coding says which codings are accepted.
            context.Response.Headers.AcceptEncoding = "identity";
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                NotJsonTitle, "Send the body uncompressed, without a Content-Encoding.");
        }

        if (!IsJsonInUtf8(request.Headers.ContentType, out var canonical))
        {
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                NotJsonTitle, "Send one Content-Type: application/json, or a +json type such as application/problem+json, in UTF-8 (no charset, or charset=utf-8).");
        }

        if (canonical is not null)
        {
            // The framework reads only the spelling "utf-8" without transcoding; any other would be transcoded or refused.
            request.Headers.ContentType = canonical;
        }

        return null;
    }

    /// <summary>
    /// True when <paramref name="contentType"/> is exactly one well-formed media type,
    /// <c>application/json</c> or a <c>+json</c> type (RFC 6839), every parameter with a value,
    /// and at most one <c>charset</c>, a label of UTF-8. <paramref name="canonical"/> is then the
    /// same type with <c>charset=utf-8</c> when the charset was spelt otherwise (quoted, an
    /// alias, another case), else null.
    /// </summary>
    internal static bool IsJsonInUtf8(StringValues contentType, out string? canonical)
    {
        canonical = null;
        if (contentType.Count != 1 || !MediaTypeHeaderValue.TryParse(contentType[0], out var mediaType))
        {
            return false;
        }

        var json = mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)
                && !mediaType.MatchesAllTypes
                && mediaType.SubTypeWithoutSuffix.Length > 0
                && !mediaType.SubTypeWithoutSuffix.Equals("*", StringComparison.Ordinal));
        if (!json)
        {
            return false;
        }

        var charsets = 0;
        var respell = false;
        foreach (var parameter in mediaType.Parameters)
        {
            if (parameter.Value.Length == 0)
            {
                return false; // "; charset", "; charset=": a parameter without a value is malformed
            }

            if (parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                var label = HeaderUtilities.RemoveQuotes(parameter.Value).Trim();
                if (++charsets > 1 || !Utf8Labels.Contains(label.ToString()))
                {
                    return false;
                }

                respell = !parameter.Value.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
            }
        }

        if (respell)
        {
            mediaType.Charset = "utf-8";
            canonical = mediaType.ToString();
        }

        return true;
    }

    /// <summary>An endpoint reads JSON when it says it accepts it: the framework says so for every body parameter.</summary>
    private static bool ReadsJson(Endpoint endpoint) =>
        endpoint.Metadata.GetOrderedMetadata<IAcceptsMetadata>()
            .Any(accepts => accepts.ContentTypes.Any(type => type.Equals("application/json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The framework's own test for whether it reads a body at all (HTTP/1.1: a Content-Length above 0, or chunked).</summary>
    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
        ?? (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0);

    /// <summary>
    /// Kestrel refuses most broken framing itself, with a bare 400 before any middleware runs (a
    /// malformed or doubled Content-Length, a Transfer-Encoding not ending in chunked); given both
    /// Transfer-Encoding and Content-Length it reads the chunks, drops Content-Length and closes the
    /// connection after the response (RFC 9112 §6.3). What it lets through and this refuses: a
    /// transfer coding besides one chunked (<c>gzip, chunked</c>), which it would hand on undecoded.
    /// </summary>
    private static string? FramingError(IHeaderDictionary headers)
    {
        var transferEncoding = headers.TransferEncoding;
        return transferEncoding.Count == 0 || (Tokens(transferEncoding) is [var coding] && coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            ? null
            : "Send the body with a Content-Length, or with Transfer-Encoding: chunked and no other transfer coding.";
    }

    private static bool IsIdentity(StringValues contentEncoding) =>
        Tokens(contentEncoding).All(coding => coding.Equals("identity", StringComparison.OrdinalIgnoreCase));

    /// <summary>The comma-separated tokens of every line of a header, trimmed, empty ones left out.</summary>
    private static string[] Tokens(StringValues values) =>
        [.. values.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];
}
