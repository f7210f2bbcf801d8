using System.Globalization;
using Accounts.Api.Storage;

namespace Accounts.Api.Email;

/// <summary>
/// The outbox from the command line, against the configured database, without starting the server:
/// <code>
/// dotnet run --project Api -- outbox list [--dead | --pending | --sent | --all] [--limit N]
/// dotnet run --project Api -- outbox retry --all-dead | ID…
/// dotnet run --project Api -- outbox purge --dead [ID…]
/// </code>
/// A retried message is due at once; a running server picks it up at its next sweep. A purged one
/// is deleted (sent and skipped messages go by themselves after <c>Email:Delivery:Retention</c>).
/// </summary>
public sealed record OutboxCommandLine(string Verb, string? Status, int Limit, IReadOnlyList<long>? Ids, string? Error)
{
    public const string Usage = """
        usage:
          outbox list [--dead | --pending | --sent | --skipped | --all] [--limit N]   (default: --dead, 50)
          outbox retry --all-dead | ID...                                            (dead messages only)
          outbox purge --dead [ID...]                                                (deletes dead messages: all, or these)
        """;

    /// <summary>The command when <paramref name="args"/> start with <c>outbox</c>; null otherwise (run the server).</summary>
    public static OutboxCommandLine? Parse(string[] args)
    {
        if (args.Length == 0 || args[0] != "outbox")
        {
            return null;
        }

        var verb = args.Length > 1 ? args[1] : "";
        var rest = args.Skip(2).ToList();
        return verb switch
        {
            "list" => ParseList(rest),
            "retry" when rest is ["--all-dead"] => new("retry", "dead", 0, null, null),
            "retry" when rest.Count > 0 && rest.All(a => long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _)) =>
                new("retry", "dead", 0, [.. rest.Select(a => long.Parse(a, CultureInfo.InvariantCulture))], null),
            "purge" when rest is ["--dead", .. var ids] && ids.All(a => long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _)) =>
                new("purge", "dead", 0, ids.Count == 0 ? null : [.. ids.Select(a => long.Parse(a, CultureInfo.InvariantCulture))], null),
            _ => Invalid($"unknown command 'outbox {string.Join(' ', args.Skip(1))}'"),
        };
    }

    private static OutboxCommandLine ParseList(List<string> args)
    {
        string? status = "dead";
        var limit = 50;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--dead" or "--pending" or "--sent" or "--skipped":
                    status = args[i][2..];
                    break;
                case "--all":
                    status = null;
                    break;
                case "--limit" when i + 1 < args.Count && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    limit = n;
                    i++;
                    break;
                default:
                    return Invalid($"unknown option '{args[i]}'");
            }
        }

        return new("list", status, limit, null, null);
    }

    private static OutboxCommandLine Invalid(string error) => new("", null, 0, null, error);

    /// <summary>Runs the command; returns the process exit code (0 done, 2 usage error).</summary>
    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken cancellationToken = default)
    {
        if (Error is not null)
        {
            await output.WriteLineAsync($"outbox: {Error}\n{Usage}");
            return 2;
        }

        await services.GetRequiredService<Database>().MigrateAsync(cancellationToken);
        var store = services.GetRequiredService<Outbox>();
        if (Verb == "purge")
        {
            var purged = await store.PurgeDeadAsync(Ids, cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{purged} dead message(s) deleted."));
            return 0;
        }

        if (Verb == "retry")
        {
            var count = await store.RetryDeadAsync(Ids, cancellationToken);
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture, $"{count} dead message(s) queued again; a running server sends them at its next sweep."));
            return 0;
        }

        var entries = await store.ListAsync(Status, Limit, cancellationToken);
        await output.WriteLineAsync("id\tstatus\tkind\tattempts\tcreated (UTC)\tnext attempt (UTC)\trecipients\tlast error");
        foreach (var e in entries)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{e.Id}\t{e.Status}\t{e.Kind}\t{e.Attempts}\t{e.CreatedAt:u}\t{e.NextAttemptAt:u}\t{e.Recipients}\t{e.LastError?.ReplaceLineEndings(" ")}"));
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{entries.Count} message(s) {Status ?? "in all"}."));
        return 0;
    }
}
