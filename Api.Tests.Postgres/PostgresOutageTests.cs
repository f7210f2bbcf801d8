using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Email;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Accounts.Api.Tests;

/// <summary>The PostgreSQL server stopped under a running app, and started again.</summary>
public sealed class PostgresOutageTests
{
    private static readonly string DeliveryCategory = typeof(EmailDeliveryService).FullName!;

    [Fact]
    public async Task A_server_stopped_mid_run_gets_503s_with_Retry_After_and_a_failing_readiness_and_everything_resumes_once_it_is_back()
    {
        // A server of this test's own: the one the other tests share stays up.
        using var server = ThrowawayPostgres.Start(durable: false);
        var logs = new CapturedLogs();
        await using var smtp = new TestSmtpServer();
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = server.ConnectionString,
            ["Logging:LogLevel:Accounts.Api.Email"] = "Debug",
        }, services: s => s.AddSingleton<ILoggerProvider>(logs));

        var accepted = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync($"before{i}", $"before{i}@example.com")).StatusCode);
            accepted.Add($"before{i}");
        }

        server.Stop();

        var refused = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            await (await app.RegisterAsync($"during{i}", $"during{i}@example.com")).StorageUnavailableAsync();
            refused.Add($"during{i}");
        }

        await (await app.Client.PostAsJsonAsync("/login", new { login = "before0", password = TestData.StrongPassword })).StorageUnavailableAsync();
        var ready = await app.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var database = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("database");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());

        // Mail queued before the stop waits: the worker backs off instead of spinning.
        await Eventually.TrueAsync(
            () => Task.FromResult(logs.Entries.Count(e => e.Category == DeliveryCategory && e.Level == LogLevel.Debug
                && e.Message.StartsWith("The database cannot take writes", StringComparison.Ordinal)) >= 3),
            "the worker has failed once and tried again twice, backing off",
            TimeSpan.FromSeconds(30));
        var complaints = logs.Entries.Where(e => e.Category == DeliveryCategory && e.Level >= LogLevel.Warning).ToList();
        Assert.True(complaints.Count <= 2, "at most a warning or two while the server is down:\n" + string.Join('\n', complaints));

        server.StartAgain();

        await Eventually.TrueAsync(
            async () => (await app.RegisterAsync("after", "after@example.com")).StatusCode == HttpStatusCode.Accepted,
            "a registration is accepted again",
            TimeSpan.FromSeconds(30));
        accepted.Add("after");
        await Eventually.TrueAsync(
            async () => (await app.Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
            "readiness is back",
            TimeSpan.FromSeconds(15));
        var login = await app.Client.PostAsJsonAsync("/login", new { login = "before0", password = TestData.StrongPassword });
        await login.ProblemAsync(403, "account_not_activated");

        // Every acknowledged account is there and mailed; none of the refused ones is.
        foreach (var name in accepted)
        {
            await smtp.WaitForMailAsync($"{name}@example.com", TimeSpan.FromSeconds(30));
        }

        await using var connection = new NpgsqlConnection(server.ConnectionString);
        var users = (await connection.QueryAsync<string>("SELECT username FROM users;")).ToList();
        Assert.Equal(accepted.Order(), users.Order());
        Assert.DoesNotContain(smtp.Received.SelectMany(m => m.Recipients), r => refused.Any(n => r.StartsWith(n, StringComparison.Ordinal)));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error && e.Category.StartsWith("Accounts.Api", StringComparison.Ordinal));
    }
}
