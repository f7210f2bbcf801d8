using System.Globalization;

namespace Accounts.Bench;

/// <summary>
/// CPU time from <c>/proc</c> (Linux): the machine's busy share, the API processes', a PostgreSQL
/// server's (the postmaster, its backends, and the backends that have ended) and this harness's.
/// Take one at the start of a phase and one at its end; their difference is the phase's.
/// </summary>
public readonly record struct CpuUse(double MachineBusy, double MachineTotal, double Api, double Postgres, double Harness)
{
    /// <summary>Linux reports times in /proc in ticks of 1/100 s (USER_HZ).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Of the whole machine's CPU time in the phase, the share that was not idle (ours and anything else's).</summary>
    public double BusyShare => MachineTotal > 0 ? MachineBusy / MachineTotal : double.NaN;

    public static CpuUse Now(IEnumerable<int> apiProcesses, int postgresPort)
    {
        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = machine.Sum();
        var idle = machine[3] + machine[4]; // idle, iowait
        var api = apiProcesses.Sum(id => Stat(id) is { } s ? s[11] + s[12] : 0);
        var postgres = 0.0;
        if (Postmaster(postgresPort) is { } postmaster && Stat(postmaster) is { } own)
        {
            // The postmaster's own time, its ended children's (cutime, cstime) and its live children's.
            postgres = own[11] + own[12] + own[13] + own[14] + Children(postmaster).Sum(id => Stat(id) is { } s ? s[11] + s[12] : 0);
        }

        var harness = Stat(Environment.ProcessId) is { } h ? h[11] + h[12] : 0;
        return new CpuUse(
            (total - idle) / TicksPerSecond, total / TicksPerSecond, api / TicksPerSecond, postgres / TicksPerSecond, harness / TicksPerSecond);
    }

    public static CpuUse operator -(CpuUse end, CpuUse start) => new(
        end.MachineBusy - start.MachineBusy,
        end.MachineTotal - start.MachineTotal,
        end.Api - start.Api,
        end.Postgres - start.Postgres,
        end.Harness - start.Harness);

    /// <summary>The fields of <c>/proc/{id}/stat</c> after the command name, from the state on (so utime is [11]); null once the process is gone.</summary>
    private static double[]? Stat(int id)
    {
        try
        {
            var line = File.ReadAllText($"/proc/{id}/stat");
            return line[(line.LastIndexOf(')') + 2)..].Split(' ')
                .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0)
                .ToArray();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<int> Processes() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture));

    private static IEnumerable<int> Children(int parent) => Processes().Where(id => Stat(id) is { } s && (int)s[1] == parent);

    /// <summary>The server started with <c>-c port={port}</c>.</summary>
    private static int? Postmaster(int port)
    {
        var argument = $"port={port.ToString(CultureInfo.InvariantCulture)}";
        foreach (var id in Processes())
        {
            try
            {
                var arguments = File.ReadAllText($"/proc/{id}/cmdline").Split('\0');
                if (arguments.Length > 0 && arguments[0].EndsWith("/postgres", StringComparison.Ordinal) && arguments.Contains(argument))
                {
                    return id;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }
}
