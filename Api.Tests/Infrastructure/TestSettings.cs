using System.Globalization;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>The settings every app a test starts begins with, in the test's process (<see cref="TestApp"/>) or in its own (<see cref="ApiProcess"/>).</summary>
public static class TestSettings
{
    /// <summary>
    /// The database, the mail pickup folder and the key ring in <paramref name="directory"/>; fast
    /// hashing; no rate limits; warnings only; mail over SMTP to <paramref name="smtpPort"/> on
    /// loopback, or to the pickup folder when there is no port.
    /// </summary>
    public static Dictionary<string, string?> Defaults(string directory, int? smtpPort) => new(TestStorage.Settings(directory))
    {
        ["PublicBaseUrl"] = TestApp.PublicBaseUrl,
        ["Passwords:Iterations"] = "1000",
        ["Email:Transport"] = smtpPort is null ? "Pickup" : "Smtp",
        ["Email:PickupDirectory"] = Path.Combine(directory, "mail"),
        ["Email:From"] = "accounts@example.test",
        ["Email:Smtp:Host"] = "127.0.0.1",
        ["Email:Smtp:Port"] = (smtpPort ?? 25).ToString(CultureInfo.InvariantCulture),
        ["Email:Smtp:Security"] = "None",
        ["Email:Smtp:Timeout"] = "00:00:05",
        ["DataProtection:KeysDirectory"] = Path.Combine(directory, "keys"),
        ["RateLimiting:Enabled"] = "false",
        // Off unless a test turns it on: a run would otherwise start whenever a test moves its clock a minute.
        ["Housekeeping:Interval"] = "00:00:00",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>A copy of <paramref name="settings"/> with <paramref name="overrides"/> laid over it.</summary>
    public static Dictionary<string, string?> With(this IDictionary<string, string?> settings, IEnumerable<KeyValuePair<string, string?>>? overrides)
    {
        var merged = new Dictionary<string, string?>(settings);
        foreach (var (key, value) in overrides ?? [])
        {
            merged[key] = value;
        }

        return merged;
    }
}
