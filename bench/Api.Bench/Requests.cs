using System.Net;
using System.Net.Http.Json;

namespace Accounts.Bench;

/// <summary>The HTTP clients and the register request every part of the harness uses.</summary>
public static class Requests
{
    /// <summary>An API client: it asks for JSON, so GET /activate activates (a browser's GET only shows the confirmation page).</summary>
    public static HttpClient Client(Uri address, int connections)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        return client;
    }

    /// <summary>Registers <paramref name="name"/> (mail to <c>name@example.test</c>); true on 202.</summary>
    public static async Task<bool> RegisterAsync(HttpClient client, string name)
    {
        const string password = "correct horse battery staple";
        var response = await client.PostAsJsonAsync("/register", new { username = name, email = $"{name}@example.test", password, confirmPassword = password });
        Statuses.Count(response.StatusCode);
        return response.StatusCode == HttpStatusCode.Accepted;
    }
}
