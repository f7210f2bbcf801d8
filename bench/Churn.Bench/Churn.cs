using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Housekeeping;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Accounts.Bench;

/// <summary>
/// Issue 16's churn: does the database stop growing once registrations, activations, expiries and
/// deletions reach a steady state? The app runs in this process on Kestrel over loopback with its
/// clock replaced by a <see cref="FakeTimeProvider"/>, mail goes over SMTP to the tests' server, and
/// every simulated hour: <c>--per-hour</c> people register (each gets the real mail), seven in ten
/// follow its link, the rest never do; ten sign-ins with names nobody has and three wrong codes
/// for addresses nobody owns arrive (what an attacker leaves behind); every account activated
/// <c>--keep-days</c> (14) ago signs in and deletes itself; then the clock moves an hour and, with
/// housekeeping on, the run due then is awaited. Once a simulated day it prints the rows of each
/// table and the database's size, with housekeeping off and then on (default settings otherwise);
/// on PostgreSQL after a <c>VACUUM</c>, as autovacuum would have run many times in a real day.
/// Run:
/// <c>dotnet run -c Release --project bench/Churn.Bench [-- --provider sqlite|postgres] [--days 35] [--per-hour 10] [--keep-days 14] [--housekeeping on|off|both]</c>.
/// </summary>
public static class Churn
{
    private const string Password = "correct horse battery staple";

    private static readonly string[] Tables = ["users", "account_tokens", "outbox", "login_failures", "code_failures"];

    public static async Task<int> Main(string[] args)
    {
        var provider = Option(args, "--provider", "sqlite");
        var days = int.Parse(Option(args, "--days", "35"), CultureInfo.InvariantCulture);
        var perHour = int.Parse(Option(args, "--per-hour", "10"), CultureInfo.InvariantCulture);
        var keepDays = int.Parse(Option(args, "--keep-days", "14"), CultureInfo.InvariantCulture);
        var modes = Option(args, "--housekeeping", "both") switch
        {
            "on" => [true],
            "off" => [false],
            _ => (bool[])[false, true],
        };
        var postgres = provider.Equals("postgres", StringComparison.OrdinalIgnoreCase);
        Console.WriteLine($"churn on {(postgres ? "PostgreSQL" : "SQLite")}: {days} simulated days, {perHour} registrations an hour (7 in 10 activated), "
            + $"10 unknown sign-ins and 3 wrong codes an hour, accounts deleted {keepDays} days after activation; {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        using var server = postgres ? ThrowawayPostgres.Start(durable: false) : null;
        var summaries = new List<string>();
        foreach (var housekeeping in modes)
        {
            summaries.Add(await SimulateAsync(server, housekeeping, days, perHour, keepDays));
        }

        Console.WriteLine();
        foreach (var summary in summaries)
        {
            Console.WriteLine(summary);
        }

        return 0;
    }

    private static async Task<string> SimulateAsync(ThrowawayPostgres? server, bool housekeeping, int days, int perHour, int keepDays)
    {
        var directory = Directory.CreateTempSubdirectory("accounts-churn-").FullName;
        var name = $"churn_{(housekeeping ? "on" : "off")}";
        string? connectionString = null;
        if (server is not null)
        {
            await using var admin = new NpgsqlConnection(server.ConnectionString);
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", admin);
            await create.ExecuteNonQueryAsync();
            connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        }

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = new SmtpSink(TimeSpan.Zero);
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = server is null ? "Sqlite" : "Postgres",
            ["Database:ConnectionString"] = connectionString ?? $"Data Source={Path.Combine(directory, "churn.db")}",
            ["PublicBaseUrl"] = "https://accounts.example.test",
            ["DataProtection:KeysDirectory"] = Path.Combine(directory, "keys"),
            ["Email:Transport"] = "Smtp",
            ["Email:From"] = "churn@example.test",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:Security"] = "None",
            ["Passwords:Iterations"] = "1000",
            ["RateLimiting:Enabled"] = "false",
            ["Housekeeping:Interval"] = housekeeping ? "01:00:00" : "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.HttpLogging"] = "Warning",
        };
        var factory = new InProcessApp(settings, time);
        var clock = Stopwatch.StartNew();
        var rows = new List<string>();
        try
        {
            factory.UseKestrel();
            factory.StartServer();
            var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
            var housekeeper = factory.Services.GetRequiredService<Housekeeper>();
            var activatedAt = new Dictionary<int, List<string>>(); // simulated hour → accounts activated then
            var sequence = 0;
            var failures = 0;

            Console.WriteLine();
            Console.WriteLine($"housekeeping {(housekeeping ? "on (Housekeeping:Interval 01:00:00)" : "off")}");
            Console.WriteLine("| day | users (pending) | links | mails | sign-in failures | code tries | database | on disk |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (var hour = 0; hour < days * 24; hour++)
            {
                var names = Enumerable.Range(sequence, perHour).Select(i => $"churn{i}").ToArray();
                sequence += perHour;
                failures += await CountFailuresAsync(names.Select(n => RegisterAsync(client, n)));
                await sink.WaitForAsync(sequence, TimeSpan.FromSeconds(60), address);
                var activating = names.Where((_, i) => i % 10 < 7).ToArray();
                failures += await CountFailuresAsync(activating.Select(async n =>
                    (await client.GetAsync($"/activate?token={sink.Received[$"{n}@example.test"].Token}")).StatusCode == HttpStatusCode.OK));
                activatedAt[hour] = [.. activating];

                failures += 10 - await CountFailuresAsync(Enumerable.Range(0, 10).Select(async i =>
                    (await client.PostAsJsonAsync("/login", new { login = $"nobody{hour}x{i}", password = "a guess" })).StatusCode == HttpStatusCode.OK));
                failures += 3 - await CountFailuresAsync(Enumerable.Range(0, 3).Select(async i =>
                    (await client.PostAsJsonAsync("/activate", new { email = $"nobody{hour}x{i}@example.test", code = "123456" })).StatusCode == HttpStatusCode.OK));

                if (activatedAt.Remove(hour - (keepDays * 24), out var leaving))
                {
                    failures += await CountFailuresAsync(leaving.Select(n => DeleteAsync(client, n)));
                }

                time.Advance(TimeSpan.FromHours(1));
                if (housekeeping)
                {
                    await WaitForRunAsync(housekeeper, time.GetUtcNow());
                }

                if ((hour + 1) % 24 == 0)
                {
                    var (counts, size, onDisk) = await MeasureAsync(connectionString, Path.Combine(directory, "churn.db"));
                    var row = $"| {(hour + 1) / 24} | {counts["users"]:N0} ({counts["pending"]:N0}) | {counts["account_tokens"]:N0} | {counts["outbox"]:N0} | "
                        + $"{counts["login_failures"]:N0} | {counts["code_failures"]:N0} | {size / 1048576.0:F2} MiB | {onDisk / 1048576.0:F2} MiB |";
                    rows.Add(row);
                    Console.WriteLine(row);
                }
            }

            // Steady from the day the first accounts leave plus the longest retention (7 days).
            var steady = Math.Min(days, keepDays + 7);
            return $"housekeeping {(housekeeping ? "on" : "off")}: {sequence:N0} registrations in {clock.Elapsed.TotalSeconds:F0} s, {failures} unexpected answers; "
                + $"day {steady} {rows[steady - 1]} → day {days} {rows[^1]}";
        }
        finally
        {
            await factory.DisposeAsync();
            SqliteConnection.ClearAllPools();
            NpgsqlConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<bool> RegisterAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/register", new { username = name, email = $"{name}@example.test", password = Password, confirmPassword = Password });
        return response.StatusCode == HttpStatusCode.Accepted;
    }

    private static async Task<bool> DeleteAsync(HttpClient client, string name)
    {
        var login = await client.PostAsJsonAsync("/login", new { login = name, password = Password });
        if (login.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }

        var token = (await login.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("accessToken").GetString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/me/delete") { Content = JsonContent.Create(new { password = Password }) };
        request.Headers.Authorization = new("Bearer", token);
        return (await client.SendAsync(request)).StatusCode == HttpStatusCode.NoContent;
    }

    /// <summary>Runs the requests four at a time; how many did not answer as expected.</summary>
    private static async Task<int> CountFailuresAsync(IEnumerable<Task<bool>> requests)
    {
        var failed = 0;
        foreach (var chunk in requests.Chunk(4))
        {
            failed += (await Task.WhenAll(chunk)).Count(ok => !ok);
        }

        return failed;
    }

    /// <summary>Waits (polling, real time) until a housekeeping run that began at <paramref name="now"/> or later has completed.</summary>
    private static async Task WaitForRunAsync(Housekeeper housekeeper, DateTimeOffset now)
    {
        var deadline = Stopwatch.StartNew();
        while (!(housekeeper.LastRunTime >= now))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"No housekeeping run at {now:O} within 60 s.");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>
    /// Rows per table (and pending accounts); the database's size (SQLite: its pages, those in the
    /// WAL included; PostgreSQL: <c>pg_database_size</c>); and on disk (SQLite: the file and its WAL).
    /// </summary>
    private static async Task<(Dictionary<string, long> Counts, long Size, long OnDisk)> MeasureAsync(string? postgres, string sqliteFile)
    {
        await using DbConnection connection = postgres is null
            ? new SqliteConnection($"Data Source={sqliteFile};Mode=ReadOnly;Pooling=False")
            : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        if (postgres is not null)
        {
            // Autovacuum wakes every minute of real time, and a simulated day here takes about three
            // seconds: one VACUUM a day stands in for the passes a real day would have.
            await ScalarAsync(connection, "VACUUM;");
        }

        var counts = new Dictionary<string, long>();
        foreach (var table in Tables)
        {
            counts[table] = await ScalarAsync(connection, $"SELECT COUNT(*) FROM {table};");
        }

        counts["pending"] = await ScalarAsync(connection, "SELECT COUNT(*) FROM users WHERE status = 'pending_activation';");
        if (postgres is not null)
        {
            var size = await ScalarAsync(connection, "SELECT pg_database_size(current_database());");
            return (counts, size, size);
        }

        var pages = await ScalarAsync(connection, "PRAGMA page_count;") * await ScalarAsync(connection, "PRAGMA page_size;");
        return (counts, pages, new FileInfo(sqliteFile).Length + (File.Exists(sqliteFile + "-wal") ? new FileInfo(sqliteFile + "-wal").Length : 0));
    }

    private static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static string Option(string[] args, string name, string fallback) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

    /// <summary>The API in this process on Kestrel (loopback, a free port), its clock replaced.</summary>
    private sealed class InProcessApp(IDictionary<string, string?> settings, FakeTimeProvider time) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseUrls("http://127.0.0.1:0");
            builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(settings));
            builder.ConfigureServices(services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        }
    }
}
