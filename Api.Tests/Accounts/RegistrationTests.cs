using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Accounts;

public sealed class RegistrationTests
{
    [Fact]
    public async Task Register_returns_every_invalid_field_at_once_with_camelCase_keys()
    {
        await using var app = TestApp.Start(smtp: null);

        var response = await app.Client.PostAsJsonAsync("/register", new
        {
            username = "a b",
            email = "not-an-address",
            password = "password",
            confirmPassword = "something else",
            birthday = "2999-01-01",
        });

        var problem = await response.ProblemAsync(400, "validation_failed");
        Assert.Equal(["birthday", "confirmPassword", "email", "password", "username"], problem.ErrorFields());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task Register_without_a_body_reports_each_required_field()
    {
        await using var app = TestApp.Start(smtp: null);

        var response = await app.Client.PostAsync("/register", content: null);

        var problem = await response.ProblemAsync(400, "validation_failed");
        Assert.Equal(["confirmPassword", "email", "password", "username"], problem.ErrorFields());
    }

    [Fact]
    public async Task Register_with_malformed_json_or_a_wrong_type_is_a_400_problem_naming_the_field()
    {
        await using var app = TestApp.Start(smtp: null);

        var malformed = await app.Client.PostAsync("/register", new StringContent("{\"username\": ", Encoding.UTF8, "application/json"));
        await malformed.ProblemAsync(400, "invalid_json");

        var wrongType = await app.Client.PostAsync("/register", new StringContent("{\"username\": 42}", Encoding.UTF8, "application/json"));
        var problem = await wrongType.ProblemAsync(400, "invalid_json");
        Assert.Equal(["username"], problem.ErrorFields());
    }

    [Fact]
    public async Task Register_with_a_body_that_is_not_json_is_a_415_problem()
    {
        await using var app = TestApp.Start(smtp: null);

        var response = await app.Client.PostAsync("/register", new StringContent("username=alice", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await response.ProblemAsync(415, "unsupported_media_type");
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("ALICE")]
    [InlineData("ａｌｉｃｅ")] // full-width letters
    public async Task Register_returns_409_when_the_username_is_taken_whatever_its_case_or_width(string second)
    {
        await using var app = TestApp.Start(smtp: null);
        Assert.Equal(HttpStatusCode.Accepted, (await app.RegisterAsync("Alice", "alice@example.com")).StatusCode);

        var response = await app.RegisterAsync(second, "other@example.com");

        await response.ProblemAsync(409, "username_taken");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task Usernames_in_any_script_are_welcome()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);

        var response = await app.RegisterAsync("张小伟", "zhang@example.cn");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("张小伟", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("username").GetString());
        var mail = await smtp.WaitForMailAsync("zhang@example.cn");
        Assert.Contains("张小伟", mail.TextBody);
    }

    [Fact]
    public async Task Accept_Language_zh_CN_gets_a_Chinese_mail()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);

        await app.RegisterAsync("lihua", "lihua@example.cn", language: "zh-CN,zh;q=0.9,en;q=0.8");

        var mail = await smtp.WaitForMailAsync("lihua@example.cn");
        Assert.Equal("激活您的Accounts账户", mail.Subject);
        Assert.Contains("激活账户", mail.HtmlBody);
        Assert.Equal("zh-CN", await app.ScalarAsync<string>("SELECT language FROM users;"));
    }

    [Fact]
    public async Task A_taken_email_of_a_pending_account_gets_the_same_202_creates_nothing_and_mails_a_fresh_link()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Activation:ResendCooldown"] = "00:00:00" });
        await app.RegisterAsync("alice", "alice@example.com");
        var first = await smtp.WaitForMailAsync("alice@example.com");

        var response = await app.RegisterAsync("mallory", "ALICE@example.com");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("pending_activation", body.GetProperty("status").GetString());
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE username = 'mallory';"));

        var second = await smtp.WaitForMailAsync("alice@example.com");
        Assert.NotEqual(first.Token, second.Token);
        Assert.Contains("alice", second.TextBody);
        Assert.Equal("activated", await (await app.Client.GetAsync(TestApp.PathOf(second.Link))).StatusAsync());
    }

    [Fact]
    public async Task A_taken_email_of_an_active_account_mails_its_owner_a_notice_without_a_link_to_activate()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp, new Dictionary<string, string?> { ["Activation:ResendCooldown"] = "00:00:00" });
        await app.RegisterAsync("alice", "alice@example.com");
        var activation = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf(activation.Link));

        var response = await app.RegisterAsync("mallory", "alice@example.com");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var notice = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("Someone tried to register with your email", notice.Subject);
        Assert.DoesNotContain("token=", notice.TextBody);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task A_taken_email_within_the_cooldown_queues_no_second_mail()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Activation:ResendCooldown"] = "00:10:00" });
        await app.RegisterAsync("alice", "alice@example.com");

        var response = await app.RegisterAsync("mallory", "alice@example.com");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM outbox;"));
    }

    [Fact]
    public async Task Mailed_links_use_PublicBaseUrl_never_the_request_Host_header()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var request = new HttpRequestMessage(HttpMethod.Post, "/register")
        {
            Content = JsonContent.Create(new
            {
                username = "alice",
                email = "alice@example.com",
                password = TestData.StrongPassword,
                confirmPassword = TestData.StrongPassword,
            }),
        };
        request.Headers.Host = "evil.example";
        request.Headers.Add("X-Forwarded-Host", "evil.example");

        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(request)).StatusCode);

        var mail = await smtp.WaitForMailAsync("alice@example.com");
        Assert.Equal("accounts.example.test", mail.Link.Host);
        Assert.DoesNotContain("evil.example", mail.TextBody + mail.HtmlBody);
    }

    [Fact]
    public async Task Passwords_are_stored_as_PBKDF2_HMAC_SHA512_at_the_configured_cost()
    {
        await using var app = TestApp.Start(smtp: null, new Dictionary<string, string?> { ["Passwords:Iterations"] = "220000" });
        await app.RegisterAsync("alice", "alice@example.com");

        var hash = Convert.FromBase64String(await app.ScalarAsync<string>("SELECT password_hash FROM users;"));

        Assert.Equal(0x01, hash[0]); // Identity V3 format
        Assert.Equal(2u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(1))); // HMACSHA512
        Assert.Equal(220_000u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(5)));
    }

    [Fact]
    public async Task The_database_file_holds_neither_the_password_nor_the_raw_token()
    {
        const string password = "Unmistakable-Secret-Phrase-4711";
        await using var app = TestApp.StartWithSmtp(out var smtp);
        await app.RegisterAsync("alice", "alice@example.com", password);
        var mail = await smtp.WaitForMailAsync("alice@example.com");
        await app.Client.GetAsync(TestApp.PathOf(mail.Link));
        await app.StopAsync();

#if POSTGRES
        // The server's files are its own; every row of every table, as text, is what it holds.
        var rawToken = Convert.ToHexStringLower(Convert.FromBase64String(Base64UrlToBase64(mail.Token)));
        foreach (var table in (string[])["users", "account_tokens", "outbox", "login_failures"])
        {
            var text = await app.ScalarAsync<string?>($"SELECT string_agg(t::text, E'\\n') FROM {table} t;") ?? "";
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(mail.Token, text, StringComparison.Ordinal);
            Assert.DoesNotContain(rawToken, text, StringComparison.Ordinal);
        }

        Assert.Contains("alice@example.com", await app.ScalarAsync<string>("SELECT string_agg(t::text, '') FROM users t;"));
#else
        var files = Directory.GetFiles(app.Directory, "accounts.db*");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file);
            }
            catch (FileNotFoundException)
            {
                // The last connection to close checkpoints and deletes the -wal and -shm files: gone, it holds nothing.
                continue;
            }

            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(password)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(mail.Token)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Convert.FromBase64String(Base64UrlToBase64(mail.Token))));
        }
#endif
    }

    [Fact]
    public async Task A_hundred_parallel_registrations_of_one_username_give_one_202_and_the_rest_409()
    {
        await using var app = TestApp.Start(smtp: null);

        var responses = await Task.WhenAll(Enumerable.Range(0, 100)
            .Select(i => app.RegisterAsync("racer", $"racer{i}@example.com")));

        var statuses = responses.Select(r => (int)r.StatusCode).ToArray();
        Assert.Equal(1, statuses.Count(s => s == 202));
        Assert.Equal(99, statuses.Count(s => s == 409));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    [Fact]
    public async Task A_hundred_parallel_registrations_of_one_email_create_one_account()
    {
        await using var app = TestApp.Start(smtp: null);

        var responses = await Task.WhenAll(Enumerable.Range(0, 100)
            .Select(i => app.RegisterAsync($"racer{i}", "same@example.com")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM users;"));
    }

    private static string Base64UrlToBase64(string token) =>
        token.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (token.Length % 4)) % 4);
}
