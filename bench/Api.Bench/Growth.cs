using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;
using static Accounts.Bench.Requests;

namespace Accounts.Bench;

/// <summary>
/// Issue 16's "cost that stays flat as data grows": the p99 of register (at a low hash cost),
/// activation, sign-in and commit → SMTP accepted (the outbox claim's path) on an empty database
/// (after a warm-up that is not counted), then the same after loading <c>--accounts</c>
/// (1,000,000) activated accounts, each with its used activation link and its sent mail, in bulk
/// into the same database under the running API. On SQLite (the default) the bulk load goes into
/// the API's file; with <c>--provider postgres</c> into a database on a throwaway server with
/// PostgreSQL's durable defaults, followed by <c>VACUUM ANALYZE</c> as autovacuum would in time.
/// Prints both, their ratio and the target (≤ 1.25). Run:
/// <c>dotnet run -c Release --project bench/Api.Bench -- --only growth [--provider sqlite|postgres] [--accounts N] [--quick]</c>.
/// </summary>
public static class Growth
{
    private const string Password = "correct horse battery staple";

    public static async Task RunAsync(string apiDll, bool quick, int accounts, bool postgres)
    {
        var phase = TimeSpan.FromSeconds(quick ? 5 : 15);
        using var server = postgres ? ThrowawayPostgres.Start(durable: true) : null;
        var connectionString = server is null ? null : await Scale.CreateDatabaseAsync(server, "growth");
        var settings = connectionString is null
            ? null
            : new Dictionary<string, string> { ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = connectionString };
        await using var sink = new SmtpSink(TimeSpan.Zero);
        await using var api = await ApiProcess.StartAsync(apiDll, sink.Port, iterations: 1_000, settings);
        using var client = Client(api.Address, 8);

        await MeasureAsync("warm", client, sink, api, TimeSpan.FromSeconds(3)); // JIT and caches, not measured
        var empty = await MeasureAsync("empty", client, sink, api, phase);
        var clock = Stopwatch.StartNew();
        var size = connectionString is null ? await LoadSqliteAsync(api.DatabaseFile, accounts) : await LoadPostgresAsync(connectionString, accounts);
        Console.WriteLine($"loaded {accounts:N0} accounts, links and mails in {clock.Elapsed.TotalSeconds:F0} s; database {size / 1048576.0:F0} MiB");
        var loaded = await MeasureAsync("loaded", client, sink, api, phase);

        Console.WriteLine();
        Console.WriteLine($"growth ({(postgres ? "PostgreSQL" : "SQLite")}): p99 on an empty database and with {accounts:N0} accounts, {phase.TotalSeconds:F0} s per measure");
        Console.WriteLine("| measure | empty p99 | loaded p99 | loaded / empty | target |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        foreach (var (name, e) in empty)
        {
            var l = loaded[name];
            var ratio = l.Percentile(99) / e.Percentile(99);
            Console.WriteLine($"| {name} | {e.Percentile(99):F2} ms | {l.Percentile(99):F2} ms | {ratio:F2} | ≤ 1.25 {(ratio <= 1.25 ? "met" : "MISSED")} |");
        }

        Console.WriteLine($"(p50s: {string.Join(", ", empty.Select(p => $"{p.Key} {p.Value.Percentile(50):F2} → {loaded[p.Key].Percentile(50):F2} ms"))})");
    }

    /// <summary>Register, then activate what registered, sign in as those accounts, and time commit → SMTP at a steady rate.</summary>
    private static async Task<Dictionary<string, Sample>> MeasureAsync(string tag, HttpClient client, SmtpSink sink, ApiProcess api, TimeSpan phase)
    {
        var register = await Load.ClosedAsync("register", 4, phase, i => RegisterAsync(client, $"{tag}{i}"));
        var registered = Enumerable.Range(1, register.Count).Select(i => $"{tag}{i}").ToArray();
        await WaitAsync(() => registered.Count(n => sink.Received.ContainsKey($"{n}@example.test")) >= register.Count - register.Errors, TimeSpan.FromMinutes(2));
        var names = registered.Where(n => sink.Received.ContainsKey($"{n}@example.test")).ToArray();

        var activation = await Load.CountedAsync("activate", 4, names.Length, async i =>
        {
            var response = await client.GetAsync($"/activate?token={sink.Received[$"{names[i]}@example.test"].Token}");
            return response.StatusCode == HttpStatusCode.OK;
        });
        var signIn = await Load.ClosedAsync("sign-in", 4, phase, async i =>
        {
            var response = await client.PostAsJsonAsync("/login", new { login = names[i % names.Length], password = Password });
            return response.StatusCode == HttpStatusCode.OK;
        });

        var answered = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var steady = await Load.OpenAsync("register 20/s", 20, phase, async i =>
        {
            var ok = await RegisterAsync(client, $"{tag}steady{i}");
            answered[$"{tag}steady{i}@example.test"] = Stopwatch.GetTimestamp();
            return ok;
        });
        await WaitAsync(() => answered.Keys.All(sink.Received.ContainsKey), TimeSpan.FromSeconds(60));
        var delivery = new Sample("commit → SMTP accepted");
        foreach (var (address, at) in answered)
        {
            delivery.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, sink.Received[address].Timestamp).TotalMilliseconds), true);
        }

        Console.WriteLine($"{tag}: {register.Count} registrations ({register.Errors} errors), {activation.Count - activation.Errors}/{names.Length} activated, "
            + $"{signIn.Count} sign-ins ({signIn.Errors} errors), {steady.Count} steady registrations; RSS peak {api.PeakRssMiB:F0} MiB");
        return new()
        {
            ["register"] = register,
            ["activation"] = activation,
            ["sign-in"] = signIn,
            ["commit → SMTP accepted (20/s)"] = delivery,
        };
    }

    /// <summary>
    /// <paramref name="count"/> activated accounts in the columns of <c>Migrations.Sqlite</c>
    /// (Guid "D" ids, Unix-millisecond times), each with a used activation link and a sent mail,
    /// in one transaction through a connection of the benchmark's own.
    /// </summary>
    private static async Task<long> LoadSqliteAsync(string file, int count)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False;Default Timeout=60");
        await connection.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = 0;
        command.CommandText = """
            CREATE TEMP TABLE n AS WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $count) SELECT i FROM s;
            INSERT INTO users (id, username, username_key, email, email_key, password_hash, birthday, language, status, created_at, activated_at, security_stamp)
            SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'bulk' || i, 'BULK' || i, 'bulk' || i || '@example.test', 'BULK' || i || '@EXAMPLE.TEST',
                   'not a hash: loaded by the benchmark', NULL, 'en', 'active', $now, $now, 'stamp' || i
            FROM n;
            INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at, consumed_at)
            SELECT randomblob(32), printf('%08x-0000-4000-8000-%012x', i, i), 'activation', $now, $now + 86400000, $now FROM n;
            INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at, sent_at)
            SELECT 'activation', json_array('bulk' || i || '@example.test'), printf('%08x-0000-4000-8000-%012x', i, i), 'en', 'sent', 1, $now, $now, $now FROM n;
            DROP TABLE n;
            """;
        command.Parameters.AddWithValue("$count", count);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        await checkpoint.ExecuteNonQueryAsync();
        return new FileInfo(file).Length;
    }

    /// <summary>
    /// The same rows in the columns of <c>Migrations.Postgres</c> (token hashes are SHA-256 of the
    /// row number), in one transaction, then <c>VACUUM ANALYZE</c> and a checkpoint, so the
    /// planner's statistics and the visibility map describe the loaded tables as they would once
    /// autovacuum has been by. Returns the database's size.
    /// </summary>
    private static async Task<long> LoadPostgresAsync(string connectionString, int count)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, CommandTimeout = 0 }.ConnectionString);
        await connection.OpenAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var command = new NpgsqlCommand("""
                CREATE TEMP TABLE n ON COMMIT DROP AS
                    SELECT i, lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS id FROM generate_series(1, @Count) AS i;
                INSERT INTO users (id, username, username_key, email, email_key, password_hash, birthday, language, status, created_at, activated_at, security_stamp)
                SELECT id, 'bulk' || i, 'BULK' || i, 'bulk' || i || '@example.test', 'BULK' || i || '@EXAMPLE.TEST',
                       'not a hash: loaded by the benchmark', NULL, 'en', 'active', @Now, @Now, 'stamp' || i
                FROM n;
                INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at, consumed_at)
                SELECT sha256(int8send(i)), id, 'activation', @Now, @Now + 86400000, @Now FROM n;
                INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at, sent_at)
                SELECT 'activation', json_build_array('bulk' || i || '@example.test')::text, id, 'en', 'sent', 1, @Now, @Now, @Now FROM n;
                """, connection, transaction);
            command.Parameters.AddWithValue("Count", count);
            command.Parameters.AddWithValue("Now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        // Each on its own: VACUUM refuses to run in a batch, which is one implicit transaction.
        foreach (var statement in (string[])["VACUUM ANALYZE;", "CHECKPOINT;"])
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }

        await using var sizeOf = new NpgsqlCommand("SELECT pg_database_size(current_database());", connection);
        return (long)(await sizeOf.ExecuteScalarAsync())!;
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException("The mails did not all arrive.");
            }

            await Task.Delay(20);
        }
    }
}
