using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Accounts.Api.Tests.Hardening;

/// <summary>
/// Every JSON endpoint against the headers and framing around a body: content types, charsets,
/// content and transfer codings, lengths that lie, clients that give up. Sent byte for byte over
/// TCP (<see cref="RawHttp"/>), since HttpClient sends none of the worst. None may get a 5xx; a
/// refused body gets its precise 4xx problem and changes nothing; valid requests still work after.
/// </summary>
public sealed class BadHeaderCorpusTests
{
    private const string UnsupportedMediaType = "unsupported_media_type";
    private const string Strong = "correct horse battery staple";

    /// <summary>Each JSON endpoint, a field it reads, and a body it accepts.</summary>
    private static readonly (string Path, string Field, JsonObject Valid)[] Endpoints =
    [
        ("/register", "username", new JsonObject { ["username"] = "corpus", ["email"] = "corpus@example.com", ["password"] = Strong, ["confirmPassword"] = Strong }),
        ("/activate", "token", new JsonObject { ["token"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
        ("/activation/resend", "email", new JsonObject { ["email"] = "nobody@example.com" }),
        ("/login", "login", new JsonObject { ["login"] = "alice", ["password"] = "wrong password entirely" }),
        ("/password/forgot", "email", new JsonObject { ["email"] = "nobody@example.com" }),
        ("/password/reset", "token", new JsonObject { ["token"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ["password"] = Strong, ["confirmPassword"] = Strong }),
    ];

    [Fact]
    public async Task Every_bad_content_type_charset_coding_or_framing_gets_its_4xx_problem_on_every_JSON_endpoint_and_changes_nothing()
    {
        var logs = new CapturedLogs();
        await using var app = StartApp(logs);
        await (await app.RegisterAsync("alice", "alice@example.com")).Content.ReadAsStringAsync();
        await Eventually.TrueAsync(
            async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';") == 0, "the outbox is drained");
        var before = await CountsAsync(app);

        var failures = new List<string>();
        var cases = 0;
        foreach (var (path, _, valid) in Endpoints)
        {
            var body = Encoding.UTF8.GetBytes(valid.ToJsonString());
            foreach (var variant in Refused())
            {
                if (path == "/activate" && variant.Name == "as 'application/x-www-form-urlencoded'")
                {
                    continue; // the confirmation page's form post: ActivationTests
                }

                cases++;
                var name = $"POST {path} {variant.Name}";
                var responses = await RawHttp.SendAsync(app.BaseAddress, variant.Build(path, body));
                if (responses is not [var response])
                {
                    failures.Add($"{name}: {responses.Count} responses ({string.Join(" / ", responses)})");
                    continue;
                }

                if (Mismatch(response, variant.Status, variant.Code) is { } mismatch)
                {
                    failures.Add($"{name}: {mismatch}");
                }
                else if (variant.NamesAcceptedCodings && response.Header("Accept-Encoding") != "identity")
                {
                    failures.Add($"{name}: no Accept-Encoding: identity");
                }
            }
        }

        Assert.True(cases >= 6 * 70, $"only {cases} cases");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:\n" + string.Join('\n', failures.Take(60)));
        Assert.Equal(before, await CountsAsync(app));
        await AssertValidRequestsStillWorkAsync(app);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task JSON_in_UTF_8_is_read_under_every_spelling_of_its_type_and_charset_and_plain_framing()
    {
        await using var app = StartApp(new CapturedLogs());
        var failures = new List<string>();
        foreach (var (path, field, _) in Endpoints)
        {
            // A number where a string belongs: the 400 that names the field proves the body was read as JSON.
            var wrongType = Encoding.UTF8.GetBytes($"{{\"{field}\": 1}}");
            foreach (var (name, build) in Accepted())
            {
                var responses = await RawHttp.SendAsync(app.BaseAddress, build(path, wrongType));
                if (responses is not [var response])
                {
                    failures.Add($"POST {path} {name}: {responses.Count} responses");
                }
                else if (Mismatch(response, 400, "invalid_json") is { } mismatch)
                {
                    failures.Add($"POST {path} {name}: {mismatch}");
                }
                else if (!JsonDocument.Parse(response.Body).RootElement.GetProperty("errors").TryGetProperty(field, out _))
                {
                    failures.Add($"POST {path} {name}: the problem does not name '{field}': {response.Body}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(60)));
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/problem+json")]
    public async Task A_registration_in_UTF_8_under_another_spelling_keeps_a_Chinese_name_intact(string contentType)
    {
        await using var app = StartApp(new CapturedLogs());
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["username"] = "张伟伟",
            ["email"] = "zhang@example.com",
            ["password"] = Strong,
            ["confirmPassword"] = Strong,
        }.ToJsonString());

        var response = Assert.Single(await RawHttp.SendAsync(app.BaseAddress, RawHttp.Post("/register", body, ("Content-Type", contentType))));

        Assert.Equal(202, response.Status);
        Assert.Equal("张伟伟", await app.ScalarAsync<string>("SELECT username FROM users WHERE email = 'zhang@example.com';"));
    }

    [Fact]
    public async Task Chunked_framing_beside_a_Content_Length_is_read_as_chunks_and_the_connection_is_closed()
    {
        await using var app = StartApp(new CapturedLogs());
        foreach (var (path, _, _) in Endpoints)
        {
            // Kestrel drops the Content-Length (RFC 9112 §6.3): the 3 bytes it claims would be "2\r\n", not JSON.
            var request = RawHttp.Post(path, RawHttp.Chunked("{}"u8.ToArray()),
                ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Content-Length", "3"));
            var smuggled = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();

            var response = Assert.Single(await RawHttp.SendAsync(app.BaseAddress, [.. request, .. smuggled]));

            Assert.Null(Mismatch(response, 400, "validation_failed"));
            Assert.Equal("close", response.Header("Connection"));
        }
    }

    [Fact]
    public async Task A_client_that_gives_up_in_the_middle_of_a_body_gets_no_5xx_and_the_app_serves_on()
    {
        var logs = new CapturedLogs();
        await using var app = StartApp(logs);
        var before = await CountsAsync(app);
        foreach (var (path, _, valid) in Endpoints)
        {
            var body = Encoding.UTF8.GetBytes(valid.ToJsonString());
            var promised = RawHttp.Post(path, body[..(body.Length / 2)], ("Content-Type", "application/json"), ("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));

            // The input ends: whatever comes back (Kestrel usually just closes) is no 5xx.
            foreach (var response in await RawHttp.SendAsync(app.BaseAddress, promised, endOfInput: true))
            {
                Assert.InRange(response.Status, 400, 499);
            }

            // The connection is reset.
            await RawHttp.AbortAsync(app.BaseAddress, promised);
        }

        await AssertValidRequestsStillWorkAsync(app);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(before.Users + 1, (await CountsAsync(app)).Users);
    }

    /// <summary>What each variant must get: a status, and the problem's code (null: Kestrel answers before any middleware, with no body).</summary>
    private sealed record Variant(string Name, Func<string, byte[], byte[]> Build, int Status, string? Code, bool NamesAcceptedCodings = false);

    private static IEnumerable<Variant> Refused()
    {
        static Func<string, byte[], byte[]> Typed(string contentType) => (path, body) => RawHttp.Post(path, body, ("Content-Type", contentType));

        // Charsets that are unknown or malformed, and real ones that are not UTF-8 (JSON is UTF-8: RFC 8259 §8.1).
        foreach (var charset in new[]
        {
            "foo", "", "\"utf-8", "\"\"", "utf-7", "ibm037", "ebcdic-cp-us", "utf-16", "utf-16le", "utf-32", "unicode",
            "iso-8859-1", "latin1", "us-ascii", "utf-8; charset=utf-16", "utf-16; charset=utf-8",
        })
        {
            yield return new($"as charset={charset}", Typed($"application/json; charset={charset}"), 415, UnsupportedMediaType);
        }

        yield return new("as charset=ü, in UTF-8 bytes (Kestrel reads header values as UTF-8)", Typed("application/json; charset=\u00c3\u00bc"), 415, UnsupportedMediaType);
        yield return new("really in UTF-16, as charset=utf-16", (path, body) =>
            RawHttp.Post(path, Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(body)), ("Content-Type", "application/json; charset=utf-16")), 415, UnsupportedMediaType);
        yield return new("really in Latin-1, as charset=iso-8859-1", (path, body) =>
            RawHttp.Post(path, Encoding.Latin1.GetBytes(Encoding.UTF8.GetString(body).Replace("o", "ö", StringComparison.Ordinal)), ("Content-Type", "application/json; charset=iso-8859-1")), 415, UnsupportedMediaType);

        // Media types that are malformed (a parameter without a value among them), wildcards, lists, or not JSON.
        foreach (var type in new[]
        {
            "application/json;;", "application/", "/json", "application/json; =x", "application/json; charset", "application/json; a",
            "application/json, text/plain", "", " ", "text/json", "application/jsonx", "application/x-json", "application/*", "*/*",
            "application/*+json", "*/*+json", "application/+json", "text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        })
        {
            yield return new($"as '{type}'", Typed(type), 415, UnsupportedMediaType);
        }

        yield return new("without a Content-Type", (path, body) => RawHttp.Post(path, body), 415, UnsupportedMediaType);
        yield return new("as a real multipart body", (path, _) =>
            RawHttp.Post(path, "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--x--\r\n"u8.ToArray(), ("Content-Type", "multipart/form-data; boundary=x")),
            415, UnsupportedMediaType);
        yield return new("with Content-Type twice, the same", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Type", "application/json")), 415, UnsupportedMediaType);
        yield return new("with Content-Type twice, JSON and text", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Type", "text/plain")), 415, UnsupportedMediaType);

        // Content codings: only a plain body is read; a 415 for a coding names the one accepted (RFC 9110 §15.5.16).
        foreach (var coding in new[] { "gzip", "br", "deflate", "compress", "zstd", "foo", "gzip, identity", "identity, gzip" })
        {
            yield return new($"plain, as Content-Encoding: {coding}", (path, body) =>
                RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Encoding", coding)), 415, UnsupportedMediaType, NamesAcceptedCodings: true);
        }

        yield return new("really gzipped, as Content-Encoding: gzip", (path, body) =>
            RawHttp.Post(path, Gzip(body), ("Content-Type", "application/json"), ("Content-Encoding", "gzip")), 415, UnsupportedMediaType, NamesAcceptedCodings: true);
        yield return new("with Content-Encoding twice", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Encoding", "identity"), ("Content-Encoding", "br")), 415, UnsupportedMediaType, NamesAcceptedCodings: true);

        // Transfer codings besides one chunked, which Kestrel would pass on undecoded.
        foreach (var codings in new[] { "gzip, chunked", "foo, chunked", "chunked, chunked" })
        {
            yield return new($"as Transfer-Encoding: {codings}", (path, body) =>
                RawHttp.Post(path, RawHttp.Chunked(body), ("Content-Type", "application/json"), ("Transfer-Encoding", codings)), 400, "bad_request");
        }

        yield return new("with Transfer-Encoding twice, gzip then chunked", (path, body) =>
            RawHttp.Post(path, RawHttp.Chunked(body), ("Content-Type", "application/json"), ("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")), 400, "bad_request");
        yield return new("chunked with a malformed chunk size", (path, body) =>
            RawHttp.Post(path, [.. "zz\r\n"u8, .. body, .. "\r\n0\r\n\r\n"u8], ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")), 400, "bad_request");

        // Too large, declared or sent in chunks.
        yield return new("declaring a Content-Length over 64 KiB", (path, _) =>
            RawHttp.Post(path, [], ("Content-Type", "application/json"), ("Content-Length", "100000")), 413, "payload_too_large");
        yield return new("chunked past 64 KiB", (path, _) =>
            RawHttp.Post(path, RawHttp.Chunked(Encoding.UTF8.GetBytes($"{{\"email\":\"{new string('x', 70_000)}\"}}")), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")),
            413, "payload_too_large");

        // Bodies that are not UTF-8 JSON, or not what their length says.
        yield return new("with invalid UTF-8 inside a string", (path, body) => RawHttp.Post(path, InvalidUtf8(body), ("Content-Type", "application/json")), 400, "invalid_json");
        yield return new("with invalid UTF-8 inside a string, as charset=utf-8", (path, body) =>
            RawHttp.Post(path, InvalidUtf8(body), ("Content-Type", "application/json; charset=utf-8")), 400, "invalid_json");
        yield return new("with invalid UTF-8 inside a string, as charset=utf8 (read as UTF-8, not transcoded)", (path, body) =>
            RawHttp.Post(path, InvalidUtf8(body), ("Content-Type", "application/json; charset=utf8")), 400, "invalid_json");
        yield return new("in UTF-16, as plain application/json", (path, body) =>
            RawHttp.Post(path, Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(body)), ("Content-Type", "application/json")), 400, "invalid_json");
        yield return new("longer than its Content-Length", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Length", (body.Length - 5).ToString(System.Globalization.CultureInfo.InvariantCulture))), 400, "invalid_json");
        yield return new("empty, as application/json", (path, _) => RawHttp.Post(path, [], ("Content-Type", "application/json")), 400, "validation_failed");
        yield return new("empty, as charset=foo (nothing to read: validated as empty)", (path, _) =>
            RawHttp.Post(path, [], ("Content-Type", "application/json; charset=foo")), 400, "validation_failed");

        // Neither Content-Length nor Transfer-Encoding: no body (RFC 9112 §6.3), so validated as empty; the bytes after are never read.
        yield return new("with neither Content-Length nor Transfer-Encoding", (path, body) =>
            [.. Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n"), .. body], 400, "validation_failed");

        // Framing and headers Kestrel refuses itself, before any middleware: a bare status, no problem body.
        yield return new("with two different Content-Lengths", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("Content-Length", "1")), 400, null);
        foreach (var length in new[] { "-1", "abc", "1e3", "0x10" })
        {
            yield return new($"with Content-Length: {length}", (path, body) => RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Length", length)), 400, null);
        }

        yield return new("as Transfer-Encoding: gzip (not ending in chunked)", (path, body) =>
            RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Transfer-Encoding", "gzip")), 400, null);
        yield return new("with bytes in Content-Type that are not UTF-8", Typed("application/json; charset=\u00ff\u00fe"), 400, null);
        yield return new("with a Content-Type over the header size limit", Typed($"application/json; x=\"{new string('a', 40_000)}\""), 431, null);
    }

    private static IEnumerable<(string Name, Func<string, byte[], byte[]> Build)> Accepted()
    {
        foreach (var type in new[]
        {
            "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8", "application/json; charset=\"utf-8\"",
            "application/json; charset=utf8", "application/json; charset=unicode-1-1-utf-8", "application/json ; charset=utf-8", "APPLICATION/JSON",
            "application/problem+json", "application/merge-patch+json", "application/vnd.api+json; charset=utf-8", "application/json; boundary=x",
            $"application/json; x=\"{new string('a', 20_000)}\"",
        })
        {
            yield return ($"as '{type[..Math.Min(60, type.Length)]}'", (path, body) => RawHttp.Post(path, body, ("Content-Type", type)));
        }

        yield return ("with a UTF-8 byte order mark", (path, body) => RawHttp.Post(path, [0xEF, 0xBB, 0xBF, .. body], ("Content-Type", "application/json")));
        yield return ("as Content-Encoding: identity", (path, body) => RawHttp.Post(path, body, ("Content-Type", "application/json"), ("Content-Encoding", "identity")));
        yield return ("chunked", (path, body) => RawHttp.Post(path, RawHttp.Chunked(body), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")));
        yield return ("chunked, as Transfer-Encoding: Chunked", (path, body) => RawHttp.Post(path, RawHttp.Chunked(body), ("Content-Type", "application/json"), ("Transfer-Encoding", "Chunked")));
    }

    /// <summary>Null when <paramref name="response"/> has the status and, when one is given, is a problem with that code.</summary>
    private static string? Mismatch(RawResponse response, int status, string? code)
    {
        if (response.Status != status)
        {
            return $"expected {status} {code}, got {response}";
        }

        if (code is null)
        {
            return null;
        }

        if (response.Header("Content-Type") != "application/problem+json")
        {
            return $"expected a problem, got {response}";
        }

        try
        {
            var problem = JsonDocument.Parse(response.Body).RootElement;
            return problem.GetProperty("status").GetInt32() == status
                && problem.GetProperty("code").GetString() == code
                && !string.IsNullOrEmpty(problem.GetProperty("title").GetString())
                // The contract's ValidationProblem: every 400 names what failed in errors.
                && (status != 400 || problem.GetProperty("errors").EnumerateObject().Any())
                    ? null
                    : $"expected {status} {code}, got {response}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"not a problem: {response}";
        }
    }

    /// <summary>Each endpoint's ordinary answer to a well-formed request, through HttpClient.</summary>
    private static async Task AssertValidRequestsStillWorkAsync(TestApp app)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/register", new { username = "after", email = "after@example.com", password = Strong, confirmPassword = Strong })).StatusCode);
        await (await app.Client.PostAsJsonAsync("/activate", Endpoints[1].Valid)).ProblemAsync(404, "token_not_found");
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/activation/resend", Endpoints[2].Valid)).StatusCode);
        await (await app.Client.PostAsJsonAsync("/login", Endpoints[3].Valid)).ProblemAsync(401, "invalid_credentials");
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync("/password/forgot", Endpoints[4].Valid)).StatusCode);
        await (await app.Client.PostAsJsonAsync("/password/reset", Endpoints[5].Valid)).ProblemAsync(404, "token_not_found");
    }

    private static TestApp StartApp(CapturedLogs logs) => TestApp.Start(
        smtp: null,
        new Dictionary<string, string?> { ["Login:MaxFailures"] = "100000" },
        services: s => s.AddSingleton<ILoggerProvider>(logs));

    private static async Task<(long Users, long Tokens, long Outbox)> CountsAsync(TestApp app) => (
        await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"),
        await app.ScalarAsync<long>("SELECT COUNT(*) FROM account_tokens;"),
        await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));

    private static byte[] Gzip(byte[] body)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }

        return compressed.ToArray();
    }

    /// <summary>The body with a lone continuation byte and an overlong encoding inside its first string value.</summary>
    private static byte[] InvalidUtf8(byte[] body)
    {
        var firstValue = Array.IndexOf(body, (byte)':') + 2; // just inside the quotes of the first value
        return [.. body[..firstValue], 0x80, 0xC0, 0xAF, 0xFF, .. body[firstValue..]];
    }
}
