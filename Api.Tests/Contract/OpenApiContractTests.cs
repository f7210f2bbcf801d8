using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Accounts.Api.Infrastructure;
using Accounts.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Accounts.Api.Tests.Contract;

/// <summary>
/// The contract front ends generate their client from: the OpenAPI document the app serves is the
/// one committed as <c>openapi.json</c> (so every contract change is a visible diff), and the
/// reference linters, Redocly's recommended rules and Spectral's <c>spectral:oas</c>, find nothing
/// in it: no error, no warning, only the exceptions <c>.redocly.lint-ignore.yaml</c> gives a reason for.
/// </summary>
public sealed class OpenApiContractTests(ITestOutputHelper output)
{
    private static readonly string Root = Path.GetDirectoryName(NodeTools.Folder)![..^"Api.Tests".Length].TrimEnd('/');
    private static readonly string Committed = Path.Combine(Root, "openapi.json");

    [Fact]
    public async Task The_served_document_is_the_committed_openapi_json()
    {
        await using var app = TestApp.Start(smtp: null);
        var served = JsonNode.Parse(await app.Client.GetStringAsync(OpenApi.DocumentPath))!.AsObject();

        // Servers come from PublicBaseUrl: the test app's here, the default in the committed file.
        // Fetched from elsewhere (loopback here), the origin it came from goes first, for Swagger UI.
        var servers = served["servers"]!.AsArray().Select(server => server!["url"]!.GetValue<string>());
        Assert.Equal(["/", TestApp.PublicBaseUrl], servers);
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(Committed))!.AsObject();
        served["servers"] = committed["servers"]!.DeepClone();

        var differences = Differences(committed, served, "").Take(20).ToList();
        Assert.True(
            differences.Count == 0,
            "The served OpenAPI document differs from openapi.json. If the change is meant, run `dotnet run --project Api -- openapi` "
            + "and commit the file. Differences (committed → served):\n" + string.Join('\n', differences));
    }

    /// <summary>Where two JSON documents differ, as JSON pointers with both values.</summary>
    private static IEnumerable<string> Differences(JsonNode? committed, JsonNode? served, string pointer)
    {
        if (committed is JsonObject a && served is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
            {
                foreach (var difference in Differences(a[key], b[key], $"{pointer}/{key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}"))
                {
                    yield return difference;
                }
            }
        }
        else if (committed is JsonArray x && served is JsonArray y && x.Count == y.Count)
        {
            for (var i = 0; i < x.Count; i++)
            {
                foreach (var difference in Differences(x[i], y[i], $"{pointer}/{i}"))
                {
                    yield return difference;
                }
            }
        }
        else if (!JsonNode.DeepEquals(committed, served))
        {
            yield return $"{pointer}: {committed?.ToJsonString() ?? "(none)"} → {served?.ToJsonString() ?? "(none)"}";
        }
    }

    [Fact]
    public async Task Swagger_UI_has_an_example_for_every_request_body_and_every_error_response()
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Committed))!;
        var schemas = document["components"]!["schemas"]!;
        var missing = new List<string>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var (type, media) in operation!["requestBody"]?["content"]?.AsObject() ?? [])
                {
                    // Swagger UI composes the body from its members' examples: every member needs one.
                    var name = media!["schema"]!["$ref"]!.GetValue<string>().Split('/')[^1];
                    missing.AddRange(schemas[name]!["properties"]!.AsObject()
                        .Where(member => member.Value!["example"] is null)
                        .Select(member => $"{method} {path} request {type} {name}.{member.Key}"));
                }

                foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => int.Parse(r.Key, CultureInfo.InvariantCulture) >= 400))
                {
                    missing.AddRange((response!["content"]?.AsObject() ?? [])
                        .Where(media => media.Value!["example"] is null)
                        .Select(media => $"{method} {path} {status} {media.Key}"));
                }
            }
        }

        Assert.True(missing.Count == 0, "No example for: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Redocly_recommended_rules_find_nothing()
    {
        var (_, json, error) = await NodeTools.RunPackageAsync(
            "@redocly/cli/bin/cli.js",
            ["lint", "--config", Path.Combine(Root, "redocly.yaml"), "--format", "json", Committed],
            TimeSpan.FromMinutes(2));
        output.WriteLine(json);
        output.WriteLine(error);
        var totals = JsonDocument.Parse(json).RootElement.GetProperty("totals");
        Assert.Equal(0, totals.GetProperty("errors").GetInt32());
        Assert.Equal(0, totals.GetProperty("warnings").GetInt32());
    }

    [Fact]
    public async Task Spectral_oas_rules_find_nothing()
    {
        var (exitCode, json, error) = await NodeTools.RunPackageAsync(
            "@stoplight/spectral-cli/dist/index.js",
            ["lint", "--ruleset", Path.Combine(Root, ".spectral.yaml"), "--format", "json", "--fail-severity", "hint", Committed],
            TimeSpan.FromMinutes(2));
        output.WriteLine(json);
        output.WriteLine(error);
        // Spectral prints a line of its own after the JSON.
        var results = JsonDocument.Parse(json[json.IndexOf('[', StringComparison.Ordinal)..(json.LastIndexOf(']') + 1)]).RootElement;
        Assert.Equal(0, results.GetArrayLength());
        Assert.Equal(0, exitCode);
    }
}
