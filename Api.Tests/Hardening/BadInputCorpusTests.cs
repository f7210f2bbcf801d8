using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Hardening;

/// <summary>
/// Hundreds of hostile requests across every endpoint: none may cause a 5xx, every error must be a
/// problem+json with a code, and no rejected request may change the database.
/// </summary>
public sealed class BadInputCorpusTests
{
    private static readonly string[] Tables = ["users", "account_tokens", "outbox"];

    [Fact]
    public async Task No_bad_input_gets_a_5xx_every_error_is_a_problem_and_rejected_requests_change_nothing()
    {
        await using var smtp = new TestSmtpServer();
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Login:MaxFailures"] = "100000", // failed sign-ins are counted by design; keep them from locking the corpus out
            ["Activation:ResendCooldown"] = "00:00:00",
        });
        await app.RegisterAsync("alice", "alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf((await smtp.WaitForMailAsync("alice@example.com")).Link));
        await app.RegisterAsync("bob", "bob@example.com");
        await smtp.WaitForMailAsync("bob@example.com");

        var cases = Corpus.All().ToList();
        Assert.True(cases.Count >= 300, $"only {cases.Count} cases");

        var failures = new List<string>();
        foreach (var (name, build) in cases)
        {
            // Mail for an earlier accepted request may still be on its way; let it settle first.
            await Eventually.TrueAsync(
                async () => await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';") == 0,
                "the outbox is drained");
            var before = await SnapshotAsync(app);
            HttpResponseMessage response;
            try
            {
                response = await app.Client.SendAsync(build());
            }
            catch (HttpRequestException ex)
            {
                failures.Add($"{name}: no response ({ex.Message})");
                continue;
            }

            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500)
            {
                failures.Add($"{name}: {status} {body}");
            }
            else if (status >= 400)
            {
                // The confirmation page's form post is a browser's too.
                var browserPage = (name.EndsWith("as a browser", StringComparison.Ordinal) || name == "POST /activate as application/x-www-form-urlencoded")
                    && response.Content.Headers.ContentType?.MediaType == "text/html";
                if (status == 414 && name.Contains("over the request line limit", StringComparison.Ordinal))
                {
                    // Kestrel refuses an overlong request line itself, before any middleware runs.
                }
                else if (browserPage)
                {
                    // The contract: a browser following a link gets a small HTML page, errors included.
                }
                else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{name}: {status} as {response.Content.Headers.ContentType}");
                }
                else if (!IsProblem(body, status))
                {
                    failures.Add($"{name}: {status} without a problem's status and code: {body}");
                }

                if (await SnapshotAsync(app) != before)
                {
                    failures.Add($"{name}: rejected with {status} but the database changed");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases failed:\n" + string.Join('\n', failures.Take(40)));
    }

    private static bool IsProblem(string body, int status)
    {
        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            return problem.GetProperty("status").GetInt32() == status
                && !string.IsNullOrEmpty(problem.GetProperty("code").GetString())
                && !string.IsNullOrEmpty(problem.GetProperty("title").GetString());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task<string> SnapshotAsync(TestApp app)
    {
        var builder = new StringBuilder();
        foreach (var table in Tables)
        {
            var key = table switch
            {
                "account_tokens" => "token_hash",
                "login_failures" => "login_key",
                _ => "id",
            };
            foreach (var row in await app.QueryAsync<dynamic>($"SELECT * FROM {table} ORDER BY {key};"))
            {
                builder.Append(table).Append(':').AppendJoin('|', ((IDictionary<string, object?>)row).Select(kv => $"{kv.Key}={FormatValue(kv.Value)}")).Append('\n');
            }
        }

        return builder.ToString();
    }

    private static string FormatValue(object? value) => value is byte[] bytes ? Convert.ToHexString(bytes) : value?.ToString() ?? "null";

    /// <summary>The generated cases: a name for the report and a request to send.</summary>
    private static class Corpus
    {
        private const string Strong = "correct horse battery staple";

        private static readonly (string Path, JsonObject Valid)[] JsonEndpoints =
        [
            ("/register", new JsonObject { ["username"] = "corpus", ["email"] = "corpus@example.com", ["password"] = Strong, ["confirmPassword"] = Strong, ["birthday"] = "1990-01-01" }),
            ("/activate", new JsonObject { ["token"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
            ("/activation/resend", new JsonObject { ["email"] = "nobody@example.com" }),
            ("/login", new JsonObject { ["login"] = "alice", ["password"] = "wrong password entirely" }),
            ("/password/forgot", new JsonObject { ["email"] = "nobody@example.com" }),
            ("/password/reset", new JsonObject { ["token"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ["password"] = Strong, ["confirmPassword"] = Strong }),
        ];

        private static readonly string[] RawBodies =
        [
            "", " ", "{", "}", "[]", "null", "true", "42", "\"text\"", "{\"a\":", "{'single': 'quotes'}", "{\"email\": \"a@b.co\",}",
            "{\"email\" \"a@b.co\"}", "\u0000\u0001\u0002", "\uFEFF{}", "{\"email\": \"unterminated}",
            new string('[', 5_000) + new string(']', 5_000),
            string.Concat(Enumerable.Repeat("{\"a\":", 300)) + "1" + new string('}', 300),
            "{\"email\":\"a@b.co\",\"email\":\"c@d.co\",\"email\":null}",
            "{\"token\":\"x\",\"token\":[1,2,3]}",
        ];

        private static readonly JsonNode?[] BadValues =
        [
            null, 0, -1, 1e308, true, false, new JsonArray(), new JsonArray(1, 2), new JsonObject(), new JsonObject { ["nested"] = "x" },
            "", "   ", "\u0000\u0001\u001f", "a\r\nBcc: victim@example.com", "' OR 1=1 --", "'; DROP TABLE users; --",
            "\" OR \"\"=\"", "😀😀😀😀😀😀😀😀😀", "张伟伟", "\u202Eevil", "<script>alert(1)</script>", "../../etc/passwd",
            "%00%0d%0a", new string('A', 1_000), new string('x', 60_000), "\ud800", "a@b", "@example.com", "a@", "1990-02-30",
        ];

        public static IEnumerable<(string Name, Func<HttpRequestMessage> Build)> All()
        {
            foreach (var (path, valid) in JsonEndpoints)
            {
                foreach (var (raw, i) in RawBodies.Select((b, i) => (b, i)))
                {
                    yield return ($"POST {path} raw body #{i}", () => Post(path, new StringContent(raw, Encoding.UTF8, "application/json")));
                }

                yield return ($"POST {path} invalid UTF-8", () => Post(path, Bytes([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0xFF, 0x22, 0x7D], "application/json")));
                // As curl does for a large body: wait for the server's go-ahead, so the 413 is read
                // instead of racing the server closing the connection while the body is still sent.
                yield return ($"POST {path} 1 MB string", () => WithExpectContinue(Post(path, Json(With(valid, valid.First().Key, new string('x', 1_000_000))))));

                foreach (var contentType in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream" })
                {
                    yield return ($"POST {path} as {contentType}", () => Post(path, Bytes(Encoding.UTF8.GetBytes(valid.ToJsonString()), contentType)));
                }

                yield return ($"POST {path} without a content type", () => Post(path, Bytes(Encoding.UTF8.GetBytes(valid.ToJsonString()), null)));
                yield return ($"POST {path} an array for the object", () => Post(path, Json(new JsonArray(valid.DeepClone()))));

                foreach (var field in valid.Select(kv => kv.Key).ToArray())
                {
                    foreach (var (value, i) in BadValues.Select((v, i) => (v, i)))
                    {
                        yield return ($"POST {path} {field}=bad#{i}", () => Post(path, Json(With(valid, field, value?.DeepClone()))));
                    }

                    yield return ($"POST {path} without {field}", () => Post(path, Json(Without(valid, field))));
                }
            }

            foreach (var (value, i) in BadValues.OfType<JsonValue>().Select((v, i) => (v.ToString(), i)).Where(v => v.Item1.Length < 5_000).Append((new string('A', 5_000), 99)))
            {
                var token = Uri.EscapeDataString(value);
                yield return ($"GET /activate token#{i}", () => new HttpRequestMessage(HttpMethod.Get, $"/activate?token={token}"));
                yield return ($"GET /activate token#{i} as a browser", () => Browser($"/activate?token={token}"));
                yield return ($"GET /password/reset token#{i}", () => new HttpRequestMessage(HttpMethod.Get, $"/password/reset?token={token}"));
            }

            yield return ("GET /activate with a token over the request line limit", () => new HttpRequestMessage(HttpMethod.Get, $"/activate?token={new string('A', 60_000)}"));
            yield return ("GET /activate?token=a&token=b", () => new HttpRequestMessage(HttpMethod.Get, "/activate?token=a&token=b"));
            foreach (var authorization in new[] { "Bearer", "Bearer ", "Bearer x", "Basic YWxpY2U6c2VjcmV0", "Bearer " + new string('A', 8_000), "Bearer ' OR 1=1 --", "bearer AAAA" })
            {
                yield return ($"GET /me with '{authorization[..Math.Min(20, authorization.Length)]}'", () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, "/me");
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                    return request;
                }
                );
            }

            foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            {
                yield return ($"{method} /register", () => new HttpRequestMessage(method, "/register") { Content = Json(JsonEndpoints[0].Valid) });
            }
        }

        private static HttpRequestMessage Post(string path, HttpContent content) => new(HttpMethod.Post, path) { Content = content };

        private static HttpRequestMessage WithExpectContinue(HttpRequestMessage request)
        {
            request.Headers.ExpectContinue = true;
            return request;
        }

        private static HttpRequestMessage Browser(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");
            return request;
        }

        private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

        private static ByteArrayContent Bytes(byte[] bytes, string? contentType)
        {
            var content = new ByteArrayContent(bytes);
            if (contentType is not null)
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }

            return content;
        }

        private static JsonObject With(JsonObject valid, string field, JsonNode? value)
        {
            var copy = (JsonObject)valid.DeepClone();
            copy[field] = value;
            return copy;
        }

        private static JsonObject Without(JsonObject valid, string field)
        {
            var copy = (JsonObject)valid.DeepClone();
            copy.Remove(field);
            return copy;
        }
    }
}
