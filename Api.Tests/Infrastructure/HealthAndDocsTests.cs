using System.Net;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Infrastructure;

public sealed class HealthAndDocsTests
{
    [Fact]
    public async Task Live_and_ready_answer_200_with_the_database_and_outbox_state()
    {
        await using var app = TestApp.Start(smtp: null);

        var live = await app.Client.GetAsync("/health/live");
        var ready = JsonDocument.Parse(await app.Client.GetStringAsync("/health/ready")).RootElement;

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        var email = checks.GetProperty("email");
        Assert.Equal("Healthy", email.GetProperty("status").GetString());
        Assert.Equal(0, email.GetProperty("pending").GetInt64());
        Assert.Equal(0, email.GetProperty("dead").GetInt64());
        Assert.Equal(0, email.GetProperty("oldestPendingSeconds").GetInt64());
    }

    [Fact]
    public async Task Ready_answers_503_when_the_database_cannot_be_read()
    {
        await using var app = TestApp.Start(smtp: null);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health/ready")).StatusCode);

        // The database under the app is taken away: the file (or PostgreSQL database) it migrated is gone.
        await TestStorage.DestroyAsync(app.Directory);

        var response = await app.Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Unhealthy", ready.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Swagger_documents_every_endpoint_with_its_responses()
    {
        await using var app = TestApp.Start(smtp: null);

        var ui = await app.Client.GetAsync("/swagger/index.html");
        var document = JsonDocument.Parse(await app.Client.GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        var paths = document.GetProperty("paths");
        Assert.Equal(["202", "400", "409", "413", "415", "429", "503"], Responses(paths, "/register", "post"));
        Assert.Equal(["200", "303", "400", "404", "410", "503"], Responses(paths, "/activate", "get"));
        Assert.Equal(["200", "400", "404", "410", "413", "415", "429", "503"], Responses(paths, "/activate", "post"));
        Assert.Equal(["202", "400", "413", "415", "429", "503"], Responses(paths, "/activation/resend", "post"));
        Assert.Equal(["200", "204", "400", "401", "403", "413", "415", "429", "503"], Responses(paths, "/login", "post"));
        Assert.Equal(["200", "204", "400", "401", "403", "413", "415", "503"], Responses(paths, "/token/refresh", "post"));
        Assert.Equal(["204", "401", "403", "413", "415", "503"], Responses(paths, "/logout", "post"));
        Assert.Equal(["204", "401", "403", "503"], Responses(paths, "/logout/all", "post"));
        Assert.Equal(["200", "401", "503"], Responses(paths, "/me", "get"));
        Assert.Equal(["204", "400", "401", "403", "413", "415", "429", "503"], Responses(paths, "/me/password", "post"));
        Assert.Equal(["202", "400", "401", "403", "413", "415", "429", "503"], Responses(paths, "/me/email", "post"));
        Assert.Equal(["204", "400", "401", "403", "413", "415", "429", "503"], Responses(paths, "/me/delete", "post"));
        Assert.Equal(["200", "400", "404", "409", "410", "503"], Responses(paths, "/email/confirm", "get"));
        Assert.Equal(["200", "400", "404", "409", "410", "413", "415", "429", "503"], Responses(paths, "/email/confirm", "post"));
        Assert.Equal(["202", "400", "413", "415", "429", "503"], Responses(paths, "/password/forgot", "post"));
        Assert.Equal(["204", "400", "404", "410", "413", "415", "429", "503"], Responses(paths, "/password/reset", "post"));
        Assert.Equal(["200"], Responses(paths, "/password/reset", "get"));
        foreach (var (path, method) in new[] { ("/me", "get"), ("/me/password", "post"), ("/me/delete", "post"), ("/logout", "post"), ("/logout/all", "post") })
        {
            // Either scheme: a bearer token, or the session cookie (cookie mode).
            Assert.Equal(["Bearer", "SessionCookie"], Schemes(paths, path, method));
        }

        Assert.Empty(Schemes(paths, "/token/refresh", "post"));
        Assert.Equal("cookie", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("SessionCookie").GetProperty("in").GetString());
        Assert.True(paths.TryGetProperty("/health/live", out _));
        Assert.True(paths.TryGetProperty("/health/ready", out _));

        var registerBody = paths.GetProperty("/register").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.True(registerBody.TryGetProperty("$ref", out _));
        var schema = document.GetProperty("components").GetProperty("schemas").GetProperty("RegisterRequest").GetProperty("properties");
        Assert.Equal("alice", schema.GetProperty("username").GetProperty("example").GetString());
        Assert.Equal("application/problem+json", paths.GetProperty("/register").GetProperty("post").GetProperty("responses")
            .GetProperty("409").GetProperty("content").EnumerateObject().Single().Name);
    }

    [Fact]
    public async Task Swagger_can_be_turned_off()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Swagger:Enabled"] = "false" });

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/swagger/v1/swagger.json")).StatusCode);
    }

    [Theory]
    [InlineData("PublicBaseUrl", "not a url", "PublicBaseUrl")]
    [InlineData("PublicBaseUrl", "ftp://example.com", "PublicBaseUrl")]
    [InlineData("Email:Smtp:Host", "", "Email:Smtp:Host")]
    [InlineData("Email:Delivery:Connections", "0", "Email:Delivery:Connections")]
    [InlineData("Passwords:Iterations", "10", "Passwords:Iterations")]
    [InlineData("Activation:RedirectUrl", "/relative", "Activation:RedirectUrl")]
    [InlineData("Database:Provider", "Oracle", "Database:Provider")]
    public async Task Invalid_configuration_stops_the_app_with_a_message_naming_the_key(string key, string value, string named)
    {
        // The built app as its own process, as an operator starts it.
        var output = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?> { [key] = value });

        Assert.True(output.Contains(named, StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task A_connection_string_of_the_other_provider_stops_the_app_naming_the_key()
    {
        // The test defaults hold a connection string of this build's provider; name the other one.
        var output = await ApiProcess.FailedStartOutputAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = TestStorage.IsPostgres ? "Sqlite" : "Postgres",
        });

        Assert.True(output.Contains("Database:ConnectionString", StringComparison.Ordinal), output);
    }

    private static string[] Responses(JsonElement paths, string path, string method) =>
        [.. paths.GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject().Select(r => r.Name).Order()];

    /// <summary>The operation's security requirements, one scheme each: any one of them will do.</summary>
    private static string[] Schemes(JsonElement paths, string path, string method) =>
        [.. paths.GetProperty(path).GetProperty(method).GetProperty("security").EnumerateArray().Select(r => r.EnumerateObject().Single().Name).Order()];
}
