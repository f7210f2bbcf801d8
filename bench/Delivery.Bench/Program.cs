using System.Diagnostics;
using System.Globalization;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;

// Delivery benchmark: three ways to send the same mails to one local SMTP sink, in one run.
//   dotnet run -c Release --project bench/Delivery.Bench
//     [-- --messages 10000 --rounds 3 --rss-messages 100000 --connections 2 --rtt-ms 1 --rtt-messages 2000]
var messages = Option("--messages", 10_000);
var rounds = Option("--rounds", 3);
var rssMessages = Option("--rss-messages", 100_000);
var connections = Option("--connections", 2);

if (Option("--drain-only", 0) is > 0 and var drainOnly)
{
    // The memory measure, in a process of its own so nothing else has touched its heap.
    var (rate, peak, heap) = await OutboxDrainAsync(Option("--sink-port", 0), null, drainOnly, connections, measureMemory: true);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rate} {peak} {heap} {PeakRss()}"));
    return 0;
}

// The test suite's SMTP server, keeping nothing but the count.
await using var sink = new TestSmtpServer(keepMail: false);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{Environment.ProcessorCount} cores, {Memory()}, .NET {Environment.Version}, {messages:N0} mails per measure, {rounds} rounds, {connections} outbox connection(s)"));

// Warm-up: JIT every path once.
await ReusedConnectionAsync(sink, 500);
await ConnectionPerMessageAsync(sink, 200);
await OutboxDrainAsync(sink.Port, Expect(sink, 500), 500, connections);

var reused = new List<double>();
var perMessage = new List<double>();
var drain = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    reused.Add(await ReusedConnectionAsync(sink, messages));
    perMessage.Add(await ConnectionPerMessageAsync(sink, messages));
    drain.Add((await OutboxDrainAsync(sink.Port, Expect(sink, messages), messages, connections)).Rate);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round}: reused {reused[^1]:N0}/s, per-message {perMessage[^1]:N0}/s, outbox {drain[^1]:N0}/s"));
}

var (bigRate, peakRss, maxHeap, processPeak) = await DrainInChildAsync(sink, rssMessages, connections);

// The same three measures with a simulated network round trip on every reply, as over a LAN.
var rtt = Option("--rtt-ms", 1);
var rttMessages = Option("--rtt-messages", 2_000);
sink.ReplyDelay = TimeSpan.FromMilliseconds(rtt);
var rttReused = await ReusedConnectionAsync(sink, rttMessages);
var rttPerMessage = await ConnectionPerMessageAsync(sink, rttMessages);
var rttDrain = (await OutboxDrainAsync(sink.Port, Expect(sink, rttMessages), rttMessages, connections)).Rate;
sink.ReplyDelay = TimeSpan.Zero;

Console.WriteLine();
Console.WriteLine("| measure | mails/s (median) | vs reused connection |");
Console.WriteLine("|---|---:|---:|");
Row("MailKit alone, one reused connection", Median(reused), Median(reused));
Row("MailKit, one connection per message", Median(perMessage), Median(reused));
Row($"outbox drain, {connections} connections", Median(drain), Median(reused));
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"outbox drain / reused connection: {Median(drain) / Median(reused):0.00}x (target >= 0.8x)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"outbox drain / connection per message: {Median(drain) / Median(perMessage):0.0}x (target >= 4x)"));
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"With {rtt} ms simulated round trip per reply, {rttMessages:N0} mails per measure:"));
Console.WriteLine();
Console.WriteLine("| measure | mails/s | vs reused connection |");
Console.WriteLine("|---|---:|---:|");
Row("MailKit alone, one reused connection", rttReused, rttReused);
Row("MailKit, one connection per message", rttPerMessage, rttReused);
Row($"outbox drain, {connections} connections", rttDrain, rttReused);
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"outbox drain / reused connection: {rttDrain / rttReused:0.00}x; outbox drain / connection per message: {rttDrain / rttPerMessage:0.0}x"));
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"draining {rssMessages:N0} queued mails (own process): {bigRate:N0}/s, peak RSS while draining {peakRss / 1048576.0:N0} MB (target <= 200 MB), max GC heap {maxHeap / 1048576.0:N0} MB; peak RSS including the insert of the rows {processPeak / 1048576.0:N0} MB"));
return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static void Row(string name, double rate, double baseline) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {rate:N0} | {rate / baseline:0.00}x |"));

// Completes when the sink has accepted <count> more mails than it has now.
static Task Expect(TestSmtpServer sink, int count) => sink.WaitForCountAsync(sink.Accepted + count, TimeSpan.FromMinutes(10));

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

static string Memory()
{
    var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
    return line is null ? "memory unknown" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024} GB RAM";
}

// The same mail in every measure, built per message as an application would.
static MimeMessage Mail(long i)
{
    var mail = new MimeMessage { Subject = "Activate your account" };
    mail.From.Add(new MailboxAddress("Accounts", "no-reply@example.test"));
    mail.To.Add(MailboxAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"user{i}@example.test")));
    mail.Body = new BodyBuilder { TextBody = BenchComposer.Text(i), HtmlBody = BenchComposer.Html(i) }.ToMessageBody();
    return mail;
}

// 1. MailKit on one connection, kept open for every message, one at a time.
static async Task<double> ReusedConnectionAsync(TestSmtpServer sink, int count)
{
    var done = Expect(sink, count);
    var clock = Stopwatch.StartNew();
    using var client = new SmtpClient();
    await client.ConnectAsync("127.0.0.1", sink.Port, SecureSocketOptions.None);
    for (var i = 0; i < count; i++)
    {
        await client.SendAsync(Mail(i));
    }

    await done;
    var rate = count / clock.Elapsed.TotalSeconds;
    await client.DisconnectAsync(quit: true);
    return rate;
}

// 2. What the tutorial's send_mail does: connect, send, quit, for every message.
static async Task<double> ConnectionPerMessageAsync(TestSmtpServer sink, int count)
{
    var done = Expect(sink, count);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", sink.Port, SecureSocketOptions.None);
        await client.SendAsync(Mail(i));
        await client.DisconnectAsync(quit: true);
    }

    await done;
    return count / clock.Elapsed.TotalSeconds;
}

// 3. The outbox: rows committed first, then the real worker drains them; timed until every row is marked sent.
static async Task<(double Rate, long PeakRss, long MaxHeap, long ProcessPeak)> DrainInChildAsync(TestSmtpServer sink, int count, int connections)
{
    var arrived = Expect(sink, count);
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
    {
        start.ArgumentList.Add(typeof(BenchComposer).Assembly.Location);
    }

    foreach (var arg in new[] { "--drain-only", $"{count}", "--sink-port", $"{sink.Port}", "--connections", $"{connections}" })
    {
        start.ArgumentList.Add(arg);
    }

    using var child = Process.Start(start)!;
    var output = await child.StandardOutput.ReadToEndAsync();
    await child.WaitForExitAsync();
    await arrived.WaitAsync(TimeSpan.FromSeconds(10));
    var figures = output.Trim().Split(' ').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
    return (figures[0], (long)figures[1], (long)figures[2], (long)figures[3]);
}

static async Task<(double Rate, long PeakRss, long MaxHeap)> OutboxDrainAsync(
    int port, Task? arrived, int count, int connections, bool measureMemory = false)
{
    var directory = Directory.CreateTempSubdirectory("delivery-bench-").FullName;
    try
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PublicBaseUrl"] = "https://accounts.example.test",
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(directory, "accounts.db")}",
            ["Email:Transport"] = "Smtp",
            ["Email:From"] = "no-reply@example.test",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:Security"] = "None",
            ["Email:Delivery:Connections"] = connections.ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddPublicUrl();
        builder.Services.AddStorage();
        builder.Services.AddEmailDelivery();
        builder.Services.AddKeyedSingleton<IEmailComposer, BenchComposer>(BenchComposer.Kind);
        using var host = builder.Build();

        var database = host.Services.GetRequiredService<Database>();
        await Migrations.ApplyAsync(database);
        await database.WriteAsync(async session =>
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < count; i++)
            {
                await session.Outbox.AddAsync(
                    new NewOutboxMessage(BenchComposer.Kind, [string.Create(CultureInfo.InvariantCulture, $"user{i}@example.test")], null, "en"),
                    now);
            }

            return count;
        });

        GC.Collect();
        long peakRss = 0, maxHeap = 0;
        if (measureMemory)
        {
            File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM, the peak resident set
        }

        var clock = Stopwatch.StartNew();
        await host.StartAsync();
        await using var reader = new SqliteConnection($"Data Source={Path.Combine(directory, "accounts.db")};Pooling=False");
        await reader.OpenAsync();
        if (arrived is not null)
        {
            await arrived.WaitAsync(TimeSpan.FromMinutes(10));
        }

        while (await reader.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status = 'pending';") > 0)
        {
            maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
            await Task.Delay(5);
        }

        var rate = count / clock.Elapsed.TotalSeconds;
        if (measureMemory)
        {
            peakRss = PeakRss();
            maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
        }

        await host.StopAsync();
        return (rate, peakRss, maxHeap);
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

static long PeakRss()
{
    var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

/// <summary>Composes the benchmark's mail: the same text as the MailKit-only measures, nothing read from a database.</summary>
internal sealed class BenchComposer : IEmailComposer
{
    public const string Kind = "bench";

    public static string Text(long i) => string.Create(CultureInfo.InvariantCulture,
        $"Hello user{i},\n\nOpen this link to activate your account (it works once, for 24 hours):\n\nhttps://accounts.example.test/activate?token=bench{i}\n\nIf you did not register, ignore this mail.\n");

    public static string Html(long i) => string.Create(CultureInfo.InvariantCulture,
        $"<p>Hello user{i},</p><p>Open this link to activate your account (it works once, for 24 hours):</p><p><a href=\"https://accounts.example.test/activate?token=bench{i}\">Activate my account</a></p>");

    public Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        Task.FromResult<EmailContent?>(new EmailContent("Activate your account", Text(message.Id), Html(message.Id)));
}
