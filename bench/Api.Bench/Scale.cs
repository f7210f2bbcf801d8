using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Npgsql;

namespace Accounts.Bench;

/// <summary>
/// Issue 8, item 5 (<c>--only scale</c>): one API instance against two on one PostgreSQL database.
/// A throwaway server with PostgreSQL's durable defaults (every commit flushed) and a fresh
/// database per scenario; each instance is the built API in its own process, with the default
/// two SMTP connections, all delivering to one sink. Measured: register throughput at saturation
/// at the production hash cost and at a cheap one (the database path), and how fast a preloaded
/// outbox drains, with every mail delivered exactly once across the instances.
/// </summary>
public static class Scale
{
    private const int ProductionIterations = 220_000;
    private const int CheapIterations = 1_000;

    public static async Task RunAsync(string apiDll, bool quick)
    {
        var duration = TimeSpan.FromSeconds(quick ? 3 : 15);
        var warmUp = TimeSpan.FromSeconds(quick ? 1 : 2);
        var mails = quick ? 1_000 : 5_000;
        var cores = Environment.ProcessorCount;
        var rows = new List<(string Measure, string One, string Two, string Ratio)>();
        var registered = new List<Registered>();
        var clock = Stopwatch.StartNew();

        // The VM may be shared: what else ran shows in the load average.
        var loadBefore = LoadAverage();
        using var server = ThrowawayPostgres.Start(durable: true);
        Console.WriteLine($"postgres: {await DescribeAsync(server.ConnectionString)}");
        Console.WriteLine("each API instance: its own process, Email:Delivery:Connections 2 (the default), BatchSize 100, Lease 1 min; rate limits off");

        foreach (var (iterations, clients) in new[] { (ProductionIterations, cores * 4), (CheapIterations, 32) })
        {
            var runs = new List<Registered>();
            foreach (var instances in (int[])[1, 2])
            {
                runs.Add(await RegisterAsync(server, apiDll, instances, iterations, clients, warmUp, duration));
            }

            registered.AddRange(runs);
            var (one, two) = (runs[0], runs[1]);
            var cost = iterations.ToString("N0", CultureInfo.InvariantCulture);
            rows.Add(($"register at saturation, {cost} iterations ({clients} clients in all), per second", $"{one.Sample.PerSecond:F1}", $"{two.Sample.PerSecond:F1}", $"{two.Sample.PerSecond / one.Sample.PerSecond:F2}"));
            rows.Add(($"register p50 / p99, {cost} iterations", $"{one.Sample.Percentile(50):F0} / {one.Sample.Percentile(99):F0} ms", $"{two.Sample.Percentile(50):F0} / {two.Sample.Percentile(99):F0} ms", ""));
            rows.Add(($"CPU per registration, API / PostgreSQL / harness (machine busy), {cost} iterations", Cpu(one.Cpu, one.Sample.Count), Cpu(two.Cpu, two.Sample.Count), ""));
            rows.Add(($"register answers other than 202, {cost} iterations (warm-up and timed)", $"{one.Errors}", $"{two.Errors}", ""));
            rows.Add(($"transactions rolled back (lost races the API runs again), {cost} iterations", $"{one.Rollbacks:N0}", $"{two.Rollbacks:N0}", ""));
            rows.Add(($"their mails, exactly once: accepted / addresses with a mail / duplicate copies / tokens issued, {cost} iterations", Once(one), Once(two), ""));
        }

        var drains = new List<Drained>();
        foreach (var instances in (int[])[1, 2])
        {
            drains.Add(await DrainAsync(server, apiDll, instances, mails));
        }

        var (d1, d2) = (drains[0], drains[1]);
        rows.Add(($"outbox drain, {mails:N0} preloaded activation mails, mails/s", $"{d1.PerSecond:F0}", $"{d2.PerSecond:F0}", $"{d2.PerSecond / d1.PerSecond:F2}"));
        rows.Add(("outbox drain, seconds from the sink's opening to all in the sink and all 'sent'", $"{d1.Elapsed.TotalSeconds:F2} s", $"{d2.Elapsed.TotalSeconds:F2} s", ""));
        rows.Add(("CPU per mail, API / PostgreSQL / harness (machine busy)", Cpu(d1.Cpu, mails), Cpu(d2.Cpu, mails), ""));
        rows.Add(("mails sent by each instance", d1.Split, d2.Split, ""));
        rows.Add(("outbox drain, exactly once: queued / addresses with a mail / duplicate copies / tokens issued; most attempts of a row", d1.Once, d2.Once, ""));
        rows.Add(("outbox drain, transactions rolled back (lost races the API runs again)", $"{d1.Rollbacks:N0}", $"{d2.Rollbacks:N0}", ""));

        Console.WriteLine();
        Console.WriteLine($"scale mode: {clock.Elapsed.TotalSeconds:F0} s; load average (1, 5, 15 min) {loadBefore} before, {LoadAverage()} after");
        Console.WriteLine();
        Console.WriteLine("| measure | 1 instance | 2 instances | 2 / 1 |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (measure, one, two, ratio) in rows)
        {
            Console.WriteLine($"| {measure} | {one} | {two} | {ratio} |");
        }

        if (registered.Any(r => r.Errors > 0 || !r.ExactlyOnce) || drains.Any(d => !d.ExactlyOnce))
        {
            Console.WriteLine();
            Console.WriteLine("**Not every registration was answered 202, or some mail was not delivered exactly once: see above.**");
            Environment.ExitCode = 1;
        }
    }

    /// <summary>A closed loop of registrations spread evenly over the instances, then every accepted one's mail awaited.</summary>
    private static async Task<Registered> RegisterAsync(
        ThrowawayPostgres server, string apiDll, int instances, int iterations, int clients, TimeSpan warmUp, TimeSpan duration)
    {
        var name = $"register_{iterations}_{instances}";
        var connectionString = await CreateDatabaseAsync(server, name);
        await using var sink = new SmtpSink(TimeSpan.Zero);
        var apis = await Instances.StartAsync(apiDll, sink.Port, iterations, connectionString, instances);
        var http = apis.Processes.Select(a => Requests.Client(a.Address, clients)).ToArray();
        Sample warm, timed;
        int accepted;
        long tokens;
        CpuUse cpu;
        try
        {
            var prefix = $"r{iterations}i{instances}";
            Statuses.Reset();
            warm = await Load.ClosedAsync("warm-up", clients, warmUp, i => Requests.RegisterAsync(http[i % instances], $"{prefix}w{i}"));
            var before = CpuUse.Now(apis.Ids, server.Port);
            timed = await Load.ClosedAsync("register", clients, duration, i => Requests.RegisterAsync(http[i % instances], $"{prefix}t{i}"));
            cpu = CpuUse.Now(apis.Ids, server.Port) - before;
            accepted = warm.Count - warm.Errors + timed.Count - timed.Errors;
            await sink.WaitForAsync(accepted, TimeSpan.FromMinutes(2), apis.Processes[0].Address);
            await using var database = new NpgsqlConnection(Unpooled(connectionString));
            await database.OpenAsync();
            (tokens, _) = await CountTokensAndAttemptsAsync(database);
            await ExplainDuplicatesAsync(database, sink);
        }
        finally
        {
            foreach (var client in http)
            {
                client.Dispose();
            }

            await apis.DisposeAsync();
        }

        var (commits, rollbacks) = await TransactionsAsync(server, name);
        var result = new Registered(timed, warm.Errors + timed.Errors, accepted, sink.Received.Count, sink.Deliveries - sink.Received.Count, tokens, rollbacks, cpu);
        Console.WriteLine(
            $"{name}: {timed.PerSecond:F1}/s over {timed.Elapsed.TotalSeconds:F0} s, answers {Statuses.Summary()}; "
            + $"mails to {sink.Received.Count} of {accepted} accepted, {result.Duplicates} duplicates, {tokens} tokens issued, by sender {BySender(sink)}; "
            + $"transactions {commits} committed, {rollbacks} rolled back; {Describe(cpu, timed.Count, "registration")}; API log: {LogSummary(apis)}");
        return result;
    }

    /// <summary>
    /// Committed and rolled-back transactions of one database, read once no connection to it is
    /// left (a backend reports its counts when it ends).
    /// </summary>
    private static async Task<(long Commits, long Rollbacks)> TransactionsAsync(ThrowawayPostgres server, string name)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var backends = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @Name;", connection);
        backends.Parameters.AddWithValue("Name", name);
        // Killed, an instance's connections end at once; should one linger, the counts may miss its last second.
        var clock = Stopwatch.StartNew();
        while ((long)(await backends.ExecuteScalarAsync())! > 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        await using var command = new NpgsqlCommand(
            "SELECT pg_stat_clear_snapshot(); SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = @Name;", connection);
        command.Parameters.AddWithValue("Name", name);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// <paramref name="mails"/> pending activation mails committed while no instance runs, then
    /// <paramref name="instances"/> instances started against a closed sink, which opens once all
    /// are ready: timed from then until the sink holds every mail and the table marks every row sent.
    /// </summary>
    private static async Task<Drained> DrainAsync(ThrowawayPostgres server, string apiDll, int instances, int mails)
    {
        var name = $"drain_{instances}";
        var connectionString = await CreateDatabaseAsync(server, name);
        // One start of the API migrates the schema; nothing is queued yet, so it has nothing to send.
        var migrating = await Instances.StartAsync(apiDll, smtpPort: 1, CheapIterations, connectionString, 1);
        await migrating.DisposeAsync();

        var database = new NpgsqlConnection(Unpooled(connectionString));
        await using var sink = new SmtpSink(TimeSpan.Zero, closed: true);
        TimeSpan toTable;
        long tokens, maxAttempts;
        CpuUse cpu;
        var log = "";
        await using (database)
        {
            await database.OpenAsync();
            var preload = Stopwatch.StartNew();
            await PreloadAsync(database, mails);
            Console.WriteLine($"{name}: {mails} users and pending activation mails preloaded in {preload.Elapsed.TotalSeconds:F1} s");

            var apis = await Instances.StartAsync(apiDll, sink.Port, CheapIterations, connectionString, instances);
            try
            {
                var before = CpuUse.Now(apis.Ids, server.Port);
                var start = Stopwatch.GetTimestamp();
                sink.Open();
                var timeout = TimeSpan.FromMinutes(3);
                while (sink.Received.Count < mails || await CountSentAsync(database) < mails)
                {
                    if (Stopwatch.GetElapsedTime(start) > timeout)
                    {
                        throw new TimeoutException($"{name}: {sink.Received.Count} of {mails} mails arrived and {await CountSentAsync(database)} were marked sent within {timeout}.");
                    }

                    await Task.Delay(10);
                }

                toTable = Stopwatch.GetElapsedTime(start);
                cpu = CpuUse.Now(apis.Ids, server.Port) - before;
                var toSink = Stopwatch.GetElapsedTime(start, sink.Received.Values.Max(v => v.Timestamp));
                (tokens, maxAttempts) = await CountTokensAndAttemptsAsync(database);
                await ExplainDuplicatesAsync(database, sink);
                Console.WriteLine($"{name}: last mail in the sink at {toSink.TotalSeconds:F2} s, all marked sent at {toTable.TotalSeconds:F2} s");
            }
            finally
            {
                await apis.DisposeAsync();
                log = LogSummary(apis);
            }
        }

        // Counted once the instances are gone, so that a copy sent late would be seen too.
        var (_, rollbacks) = await TransactionsAsync(server, name);
        var exactlyOnce = sink.Received.Count == mails && sink.Deliveries == mails && tokens == mails && maxAttempts == 1;
        var once = $"{mails:N0} / {sink.Received.Count:N0} / {sink.Deliveries - sink.Received.Count:N0} / {tokens:N0}; {maxAttempts}{(exactlyOnce ? "" : " **not exactly once**")}";
        var result = new Drained(mails / toTable.TotalSeconds, toTable, BySender(sink), once, exactlyOnce, rollbacks, cpu);
        Console.WriteLine($"{name}: {result.PerSecond:F0} mails/s; by sender {result.Split}; queued / addresses with a mail / duplicate copies / tokens issued; most attempts of a row: {once}; {rollbacks} transactions rolled back; {Describe(cpu, mails, "mail")}; API log: {log}");
        return result;
    }

    /// <summary>
    /// Users and their activation mails as a registration leaves them (the columns of
    /// <c>Migrations.Postgres</c>: text ids in Guid "D" form, Unix-millisecond times, the recipients
    /// a JSON array), due now. No password hash is computed: delivery never reads it.
    /// </summary>
    private static async Task PreloadAsync(NpgsqlConnection database, int count)
    {
        const string sql = """
            WITH u AS (
                INSERT INTO users (id, username, username_key, email, email_key, password_hash, language, status, created_at, security_stamp)
                SELECT gen_random_uuid()::text, 'drain' || i, 'DRAIN' || i, 'drain' || i || '@example.test', 'DRAIN' || i || '@EXAMPLE.TEST',
                       'not a hash: preloaded by the benchmark', 'en', 'pending_activation', @Now, md5(random()::text)
                FROM generate_series(1, @Count) AS i
                RETURNING id, email)
            INSERT INTO outbox (kind, recipients, user_id, language, status, attempts, created_at, next_attempt_at)
            SELECT 'activation', json_build_array(email)::text, id, 'en', 'pending', 0, @Now, @Now FROM u;
            ANALYZE users, outbox;
            """;
        await using var command = new NpgsqlCommand(sql, database);
        command.Parameters.AddWithValue("Now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("Count", count);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>For a few addresses that got more than one mail, their outbox rows and how many tokens were issued to the account.</summary>
    private static async Task ExplainDuplicatesAsync(NpgsqlConnection database, SmtpSink sink)
    {
        const string sql = """
            SELECT o.id, o.kind, o.status, o.attempts, o.created_at, o.sent_at, o.last_error,
                   (SELECT count(*) FROM account_tokens t WHERE t.user_id = o.user_id) AS tokens
            FROM outbox o JOIN users u ON u.id = o.user_id
            WHERE u.email = @Email ORDER BY o.id;
            """;
        foreach (var (address, copies) in sink.Copies.Where(c => c.Value > 1).Take(3))
        {
            await using var command = new NpgsqlCommand(sql, database);
            command.Parameters.AddWithValue("Email", address);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add($"row {reader.GetInt64(0)} {reader.GetString(1)} {reader.GetString(2)} after {reader.GetInt64(3)} attempt(s), "
                    + $"created {reader.GetInt64(4)}, sent {(reader.IsDBNull(5) ? "-" : reader.GetInt64(5).ToString(CultureInfo.InvariantCulture))}, "
                    + $"last error {(reader.IsDBNull(6) ? "none" : reader.GetString(6))}, {reader.GetInt64(7)} token(s) for the account");
            }

            Console.WriteLine($"  {address}: {copies} copies; {string.Join("; ", rows)}");
        }
    }

    /// <summary>The API instances' warnings and errors, by kind, leaving out Data Protection's notice that the key ring is not encrypted at rest.</summary>
    private static string LogSummary(Instances apis)
    {
        var kinds = apis.Processes.SelectMany(p => p.Log)
            .Select(ParseLogLine)
            .Where(e => !e.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal))
            .GroupBy(e => e)
            .Select(g => $"{g.Count()} × {g.Key.Level} {g.Key.Category}: {g.Key.Message}")
            .ToList();
        return kinds.Count == 0 ? "no warnings or errors" : string.Join("; ", kinds);
    }

    private static (string Level, string Category, string Message) ParseLogLine(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var message = root.TryGetProperty("State", out var state) && state.TryGetProperty("{OriginalFormat}", out var format)
                ? format.GetString()
                : root.TryGetProperty("Message", out var text) ? text.GetString() : line;
            if (root.TryGetProperty("Exception", out var exception) && exception.GetString() is { } error)
            {
                message += $" ({error.Split('\n')[0].Trim()})";
            }

            return (root.GetProperty("LogLevel").GetString() ?? "", root.GetProperty("Category").GetString() ?? "", message ?? "");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ("", "", line);
        }
    }

    private static async Task<long> CountSentAsync(NpgsqlConnection database)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM outbox WHERE status = 'sent';", database);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<(long Tokens, long MaxAttempts)> CountTokensAndAttemptsAsync(NpgsqlConnection database)
    {
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM account_tokens), (SELECT max(attempts) FROM outbox);", database);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Not pooled: once closed, nothing of the harness stays connected to the database.</summary>
    private static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    /// <summary>A new, empty database on the server; the connection string to it.</summary>
    internal static async Task<string> CreateDatabaseAsync(ThrowawayPostgres server, string name)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\";", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<string> DescribeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('wal_sync_method');",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return $"{reader.GetString(0)} on loopback, fsync {reader.GetString(1)}, synchronous_commit {reader.GetString(2)}, wal_sync_method {reader.GetString(3)}";
    }

    private static string Once(Registered r) =>
        $"{r.Accepted:N0} / {r.Mails:N0} / {r.Duplicates:N0} / {r.Tokens:N0}{(r.ExactlyOnce ? "" : " **not exactly once**")}";

    private static string Describe(CpuUse cpu, int count, string unit) =>
        $"machine {cpu.BusyShare * 100:F0}% busy; CPU ms per {unit}: API {PerOp(cpu.Api, count)}, PostgreSQL {PerOp(cpu.Postgres, count)}, harness {PerOp(cpu.Harness, count)}, "
        + $"anything else {PerOp(cpu.MachineBusy - cpu.Api - cpu.Postgres - cpu.Harness, count)}";

    private static string Cpu(CpuUse cpu, int count) =>
        $"{PerOp(cpu.Api, count)} / {PerOp(cpu.Postgres, count)} / {PerOp(cpu.Harness, count)} ms ({cpu.BusyShare * 100:F0}%)";

    private static string PerOp(double seconds, int count) => (seconds * 1000 / count).ToString("F2", CultureInfo.InvariantCulture);

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string BySender(SmtpSink sink) =>
        string.Join(" + ", sink.BySender.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value.ToString("N0", CultureInfo.InvariantCulture)));

    private sealed record Registered(Sample Sample, int Errors, int Accepted, int Mails, int Duplicates, long Tokens, long Rollbacks, CpuUse Cpu)
    {
        public bool ExactlyOnce => Mails == Accepted && Duplicates == 0 && Tokens == Accepted;
    }

    private sealed record Drained(double PerSecond, TimeSpan Elapsed, string Split, string Once, bool ExactlyOnce, long Rollbacks, CpuUse Cpu);

    /// <summary>API processes on one database, started together (they migrate it under one advisory lock), each with its own sender address.</summary>
    private sealed class Instances : IAsyncDisposable
    {
        private Instances(ApiProcess[] processes) => Processes = processes;

        public ApiProcess[] Processes { get; }

        public IEnumerable<int> Ids => Processes.Select(p => p.Id);

        public static async Task<Instances> StartAsync(string apiDll, int smtpPort, int iterations, string connectionString, int count)
        {
            var starting = Enumerable.Range(1, count).Select(n => ApiProcess.StartAsync(apiDll, smtpPort, iterations, new Dictionary<string, string>
            {
                ["Database:Provider"] = "Postgres",
                ["Database:ConnectionString"] = connectionString,
                ["Email:From"] = $"instance{n}@example.test",
            })).ToArray();
            try
            {
                return new Instances(await Task.WhenAll(starting));
            }
            catch
            {
                foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                {
                    await started.Result.DisposeAsync();
                }

                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in Processes)
            {
                await process.DisposeAsync();
            }
        }
    }
}
