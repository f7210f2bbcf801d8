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

        Assert.True(
            JsonNode.DeepEquals(committed, served),
            "The served OpenAPI document differs from openapi.json. If the change is meant, run `dotnet run --project Api -- openapi` and commit the file.");
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
