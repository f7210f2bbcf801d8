using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

/// <summary>
/// The 6-digit codes beside the activation and reset links, over HTTP with real mail: on SQLite
/// here, on PostgreSQL in Api.Tests.Postgres.
/// </summary>
public sealed class CodeTests
{
    private const string NewPassword = "a brand new horse battery staple";

    [Fact]
    public async Task The_activation_code_activates_once_and_then_answers_already_active()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");

        var activated = await app.Client.PostAsJsonAsync("/activate", new { email = "Alice@Example.com", code = mail.Code });
        var again = await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = mail.Code });

        Assert.Equal("activated", await activated.StatusAsync());
        Assert.Equal("already_active", await again.StatusAsync());
        Assert.Equal("active", await app.ScalarAsync<string>("SELECT status FROM users;"));
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", TestData.StrongPassword)).StatusCode);
        // The link it was mailed with is the same one: used now.
        Assert.Equal("already_active", await (await app.Client.GetAsync(TestApp.PathOf(mail.Link))).StatusAsync());
    }

    [Fact]
    public async Task A_wrong_code_an_unknown_address_and_a_used_up_code_get_one_and_the_same_400()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Activation:MaxCodeAttempts"] = "3", ["Activation:ResendCooldown"] = "00:00:00" });
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        var wrong = mail.Code == "000000" ? "000001" : "000000";

        var answers = new List<JsonElement>();
        answers.Add(await (await app.Client.PostAsJsonAsync("/activate", new { email = "nobody@example.com", code = mail.Code })).ProblemAsync(400, "code_invalid"));
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = wrong })).ProblemAsync(400, "code_invalid"));
        }

        // Three wrong tries used the code up: the right one is refused the same way.
        answers.Add(await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = mail.Code })).ProblemAsync(400, "code_invalid"));

        var shapes = answers.Select(a => string.Join('|', a.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}={p.Value.GetRawText()}"))).Distinct().ToList();
        Assert.Single(shapes);
        Assert.Equal(["code"], answers[0].ErrorFields());
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users;"));

        // A new mail brings a new code and a fresh count; the old code stays dead.
        await app.ResendActivationAsync("alice@example.com");
        var second = await smtp.WaitForCountAsync(2);
        var fresh = second[^1];
        Assert.NotEqual(mail.Token, fresh.Token);
        if (fresh.Code != mail.Code)
        {
            await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = mail.Code })).ProblemAsync(400, "code_invalid");
        }

        Assert.Equal("activated", await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = fresh.Code })).StatusAsync());
    }

    [Fact]
    public async Task Wrong_codes_sent_at_once_are_each_counted()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Activation:MaxCodeAttempts"] = "5" });
        await app.RegisterAsync("alice", "alice@example.com");
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        var wrongs = Enumerable.Range(0, 20).Select(i => (100000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)).Where(c => c != mail.Code).Take(12);

        var answers = await Task.WhenAll(wrongs.Select(code => app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code })));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
        await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com", code = mail.Code })).ProblemAsync(400, "code_invalid");
        Assert.Equal("pending_activation", await app.ScalarAsync<string>("SELECT status FROM users;"));
    }

    [Fact]
    public async Task A_malformed_address_or_code_is_a_validation_problem_naming_each()
    {
        await using var app = TestApp.StartWithSmtp(out _);

        var both = await (await app.Client.PostAsJsonAsync("/activate", new { email = "not an address", code = "12a" })).ProblemAsync(400, "validation_failed");
        var noCode = await (await app.Client.PostAsJsonAsync("/activate", new { email = "alice@example.com" })).ProblemAsync(400, "validation_failed");
        var reset = await (await app.Client.PostAsJsonAsync("/password/reset", new { email = "alice@example.com", code = "1234567", password = NewPassword, confirmPassword = NewPassword }))
            .ProblemAsync(400, "validation_failed");

        Assert.Equal(["code", "email"], both.ErrorFields().Order());
        Assert.Equal(["code"], noCode.ErrorFields());
        Assert.Equal(["code"], reset.ErrorFields());
    }

    [Fact]
    public async Task The_reset_code_sets_a_new_password_and_a_wrong_one_or_an_unknown_address_gets_code_invalid()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com");
        var activation = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf(activation.Link));
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = "alice@example.com" });
        var reset = (await smtp.WaitForCountAsync(2))[^1];
        var wrong = reset.Code == "000000" ? "000001" : "000000";

        await (await app.Client.PostAsJsonAsync("/password/reset", new { email = "alice@example.com", code = wrong, password = NewPassword, confirmPassword = NewPassword }))
            .ProblemAsync(400, "code_invalid");
        await (await app.Client.PostAsJsonAsync("/password/reset", new { email = "nobody@example.com", code = reset.Code, password = NewPassword, confirmPassword = NewPassword }))
            .ProblemAsync(400, "code_invalid");
        if (activation.Code != reset.Code)
        {
            // An activation code is not a reset code.
            await (await app.Client.PostAsJsonAsync("/password/reset", new { email = "alice@example.com", code = activation.Code, password = NewPassword, confirmPassword = NewPassword }))
                .ProblemAsync(400, "code_invalid");
        }

        var done = await app.Client.PostAsJsonAsync("/password/reset", new { email = "alice@example.com", code = reset.Code, password = NewPassword, confirmPassword = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.LoginAsync("alice", NewPassword)).StatusCode);
        await (await app.Client.PostAsJsonAsync("/password/reset", new { email = "alice@example.com", code = reset.Code, password = "yet another horse battery", confirmPassword = "yet another horse battery" }))
            .ProblemAsync(410, "token_expired");
    }
}
