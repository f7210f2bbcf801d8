using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// The real app on Kestrel over loopback TCP, with its own database (a SQLite file in a temporary
/// folder, or a PostgreSQL database named for that folder: <see cref="TestStorage"/>) and mail
/// sent through MailKit to a <see cref="TestSmtpServer"/>. One per test.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    /// <summary>Where mailed links point; deliberately not the address the tests call.</summary>
    public const string PublicBaseUrl = "https://accounts.example.test";

    private readonly Factory _factory;
    private readonly bool _ownsDirectory;
    private int _stopped;

    private TestApp(Factory factory, TestSmtpServer? smtp, string directory, bool ownsDirectory, FakeTimeProvider? time)
    {
        _factory = factory;
        _ownsDirectory = ownsDirectory;
        Smtp = smtp;
        Directory = directory;
        Time = time;
        // The port goes through the URLs, not UseKestrel(port): that one rewrites the server's
        // addresses after the build and races Kestrel's own bind (dotnet/aspnetcore#67714).
        factory.UseKestrel();
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        BaseAddress = new Uri(addresses.Addresses.First());
        // An API client: it asks for JSON, so a mailed link's GET activates instead of showing the confirmation page.
        Client = new HttpClient { BaseAddress = BaseAddress };
        Client.DefaultRequestHeaders.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
    }

    public TestSmtpServer? Smtp { get; }

    public string Directory { get; }


    public FakeTimeProvider? Time { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>
    /// Starts the app. <paramref name="settings"/> override the test defaults (<see cref="TestSettings.Defaults"/>:
    /// fast hashing, SMTP to <paramref name="smtp"/>); pass <paramref name="directory"/> to reuse an earlier app's database, and
    /// <paramref name="port"/> when settings must name the app's own address (0: any free port).
    /// </summary>
    public static TestApp Start(
        TestSmtpServer? smtp,
        IDictionary<string, string?>? settings = null,
        FakeTimeProvider? time = null,
        string? directory = null,
        Action<IServiceCollection>? services = null,
        string environment = "Testing",
        int port = 0)
    {
        var ownsDirectory = directory is null;
        directory ??= System.IO.Directory.CreateTempSubdirectory("accounts-tests-").FullName;
        var factory = new Factory(TestSettings.Defaults(directory, smtp?.Port).With(settings), time, services, environment, port);
        try
        {
            return new TestApp(factory, smtp, directory, ownsDirectory, time);
        }
        catch
        {
            // What the app would have owned goes with the failed start, as it would with the app.
            factory.Dispose();
            _ = smtp?.DisposeAsync().AsTask();
            if (ownsDirectory)
            {
                TestStorage.Delete(directory);
            }

            throw;
        }
    }

    /// <summary>A fresh app with its own SMTP server, for the common case.</summary>
    public static TestApp StartWithSmtp(out TestSmtpServer smtp, IDictionary<string, string?>? settings = null, FakeTimeProvider? time = null)
    {
        smtp = new TestSmtpServer();
        return Start(smtp, settings, time);
    }

    public Task<HttpResponseMessage> RegisterAsync(
        string username, string email, string password = TestData.StrongPassword, string? birthday = null, string? language = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/register")
        {
            Content = JsonContent.Create(new { username, email, password, confirmPassword = password, birthday }),
        };
        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> LoginAsync(string login, string password) =>
        Client.PostAsJsonAsync("/login", new { login, password });

    /// <summary>Signs in with <paramref name="login"/> and <paramref name="password"/>, which must work; returns the bearer token.</summary>
    public async Task<string> BearerTokenAsync(string login, string password = TestData.StrongPassword)
    {
        var response = await LoginAsync(login, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    /// <summary>
    /// Registers an account with <see cref="TestData.StrongPassword"/>, activates it by the mailed link
    /// (which this returns) and signs it in; needs the app's <see cref="Smtp"/>.
    /// </summary>
    public async Task<(string Token, ReceivedMail Activation)> SignedInAccountAsync(string username, string email, string? language = null)
    {
        var smtp = Smtp ?? throw new InvalidOperationException("This app was started without a test SMTP server.");
        Assert.Equal(HttpStatusCode.Accepted, (await RegisterAsync(username, email, language: language)).StatusCode);
        var activation = await smtp.WaitForMailAsync(email);
        Assert.Equal("activated", await (await Client.GetAsync(PathOf(activation.Link))).StatusAsync());
        return (await BearerTokenAsync(username), activation);
    }

    public Task<HttpResponseMessage> ResendActivationAsync(string email) =>
        Client.PostAsJsonAsync("/activation/resend", new { email });

    /// <summary>Runs a query on the app's database through a connection of the test's own.</summary>
    public Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        TestStorage.QueryAsync<T>(Directory, sql, parameters);

    public Task<T> ScalarAsync<T>(string sql, object? parameters = null) => TestStorage.ScalarAsync<T>(Directory, sql, parameters);

    /// <summary>Runs a statement on the app's database through a connection of the test's own (to set up a state the API does not make quickly, such as an old row).</summary>
    public Task<int> ExecuteAsync(string sql, object? parameters = null) => TestStorage.ExecuteAsync(Directory, sql, parameters);

    /// <summary>The path and query of a mailed link, to call on this app instead of <see cref="PublicBaseUrl"/>.</summary>
    public static string PathOf(Uri link) => link.PathAndQuery;

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
        }

        if (_ownsDirectory)
        {
            TestStorage.Delete(Directory);
        }
    }

    /// <summary>Keeps the database folder for a second app, as a restart would.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        Client.Dispose();
        await _factory.DisposeAsync();
        TestStorage.ReleaseConnections();
    }

    private sealed class Factory(
        IDictionary<string, string?> settings, FakeTimeProvider? time, Action<IServiceCollection>? services, string environment, int port)
        : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment(environment);
            builder.UseUrls($"http://127.0.0.1:{port}");
            builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings));
            if (time is not null)
            {
                builder.ConfigureServices(s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
            }

            if (services is not null)
            {
                builder.ConfigureServices(services);
            }
        }
    }
}

public static class TestData
{
    public const string StrongPassword = "correct horse battery staple";
}
