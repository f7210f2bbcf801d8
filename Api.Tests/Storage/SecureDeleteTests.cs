using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Accounts.Api.Tests.Infrastructure;

namespace Accounts.Api.Tests.Storage;

/// <summary>SQLite only: an erased account leaves no bytes of its username or address in the database file, its WAL or its index.</summary>
public sealed class SecureDeleteTests
{
    private const string Username = "zebulon_erased";
    private const string Email = "zebulon.erased@example.com";

    [Fact]
    public async Task After_POST_me_delete_the_database_files_hold_no_trace_of_the_username_or_the_address()
    {
        await using var app = TestApp.StartWithSmtp(out var smtp);
        var (token, _) = await app.SignedInAccountAsync(Username, Email);
        await app.LoginAsync(Email, "not the password"); // a failed sign-in row keyed by the address
        await app.Client.PostAsJsonAsync("/password/forgot", new { email = Email });
        await smtp.WaitForMailAsync(Email);
        Assert.NotEmpty(Traces(app.Directory)); // the search finds them while the account exists

        using var delete = new HttpRequestMessage(HttpMethod.Post, "/me/delete") { Content = JsonContent.Create(new { password = TestData.StrongPassword }) };
        delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.SendAsync(delete)).StatusCode);

        Assert.Empty(Traces(app.Directory));
    }

    /// <summary>Which of the account's strings (as stored, and as keys) each database file holds, read as the app runs.</summary>
    private static List<string> Traces(string directory)
    {
        string[] needles = [Username, Email, Username.ToUpperInvariant(), Email.ToUpperInvariant()];
        var found = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, "accounts.db*"))
        {
            byte[] bytes;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }

            found.AddRange(needles.Where(n => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(n)) >= 0).Select(n => $"{Path.GetFileName(path)}: {n}"));
        }

        return found;
    }
}
