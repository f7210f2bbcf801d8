using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Accounts.Api.Tests.Hardening;

public sealed class LoggingTests
{
    [Fact]
    public async Task The_logs_of_a_whole_story_hold_no_password_token_or_SMTP_password_and_carry_the_request_id()
    {
        const string password = "Sekret-Horse-Battery-91";
        const string newPassword = "Another-Sekret-Horse-92";
        const string smtpPassword = "smtp-password-marker-7f3a";
        var logs = new CapturedLogs();
        await using var smtp = new TestSmtpServer();
        await using var app = TestApp.Start(smtp, new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
            ["Email:Smtp:Password"] = smtpPassword,
        }, services: s => s.AddSingleton<ILoggerProvider>(logs));

        await app.RegisterAsync("alice", "alice@example.com", password);
        var activation = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf(activation.Link));
        var login = await app.Client.PostAsJsonAsync("/login", new { login = "alice", password });
        var bearer = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        var me = new HttpRequestMessage(HttpMethod.Get, "/me");
        me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        await app.Client.SendAsync(me);
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var reset = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.PostAsJsonAsync("/password/reset", new { token = reset.Token, password = newPassword, confirmPassword = newPassword });
        await app.Client.PostAsJsonAsync("/login", new { login = "alice", password = "a wrong one entirely" });

        var entries = logs.Entries;
        Assert.NotEmpty(entries);
        foreach (var secret in new[] { password, newPassword, smtpPassword, activation.Token, reset.Token, bearer })
        {
            Assert.DoesNotContain(entries, e => e.ToString().Contains(secret, StringComparison.Ordinal));
        }

        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.HttpLogging", StringComparison.Ordinal)
            && e.Scopes.Contains("RequestId=", StringComparison.Ordinal)
            && e.Scopes.Contains("RequestPath=/register", StringComparison.Ordinal));
    }
}
