using System.Net.Http.Json;
using System.Text.Json;

namespace Accounts.Api.Tests.Infrastructure;

public static class Http
{
    /// <summary>Reads a problem+json body, asserting its media type, status and code.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>Asserts the answer to a request the database could not serve: 503 problem+json, <c>storage_unavailable</c>, <c>Retry-After</c> in seconds.</summary>
    public static async Task<JsonElement> StorageUnavailableAsync(this HttpResponseMessage response)
    {
        var problem = await response.ProblemAsync(503, "storage_unavailable");
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { TotalSeconds: >= 1 and <= 60 }, $"Retry-After is '{response.Headers.RetryAfter}'");
        return problem;
    }

    /// <summary>The field names of a validation problem's <c>errors</c>.</summary>
    public static string[] ErrorFields(this JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order()];

    public static async Task<string?> StatusAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();
}
