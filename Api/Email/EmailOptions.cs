namespace Accounts.Api.Email;

public enum EmailTransportKind
{
    /// <summary>Writes <c>.eml</c> files to <see cref="EmailOptions.PickupDirectory"/>; needs nothing installed.</summary>
    Pickup,

    /// <summary>Sends through an SMTP relay with MailKit.</summary>
    Smtp,

    /// <summary>Only logs that a message would have been sent.</summary>
    Log,
}

public enum SmtpSecurity
{
    /// <summary>TLS on connect for port 465, STARTTLS when the server offers it otherwise.</summary>
    Auto,

    /// <summary>Plain text (a relay on the same host).</summary>
    None,

    /// <summary>Implicit TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>Plain connect, then STARTTLS; fails if the server does not offer it.</summary>
    StartTls,
}

/// <summary>Settings under <c>Email</c>.</summary>
public sealed partial class EmailOptions
{
    public const string SectionName = "Email";

    public EmailTransportKind Transport { get; set; } = EmailTransportKind.Pickup;

    /// <summary>Lets Production run with the <c>Pickup</c> or <c>Log</c> transport, which deliver nothing.</summary>
    public bool AllowDevelopmentTransport { get; set; }

    /// <summary>Where the <c>Pickup</c> transport writes; relative paths are under the content root.</summary>
    public string PickupDirectory { get; set; } = "App_Data/mail";

    /// <summary>Sender address; defaults to <c>no-reply@</c> the host of <c>PublicBaseUrl</c>.</summary>
    public string? From { get; set; }

    /// <summary>Sender display name.</summary>
    public string FromName { get; set; } = "Accounts";

    /// <summary>The product's name as mails show it.</summary>
    public string ProductName { get; set; } = "Accounts";

    /// <summary>Where people can write for help; shown at the foot of every mail when set.</summary>
    public string? SupportAddress { get; set; }

    /// <summary>
    /// A folder of templates that replace the built-in ones of the same name (<c>activation.zh-CN.html</c>, …),
    /// checked at start; relative paths are under the content root.
    /// </summary>
    public string? TemplatesDirectory { get; set; }

    public SmtpOptions Smtp { get; set; } = new();

    public DeliveryOptions Delivery { get; set; } = new();
}

/// <summary>Settings under <c>Email:Smtp</c>.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public string? Username { get; set; }

    /// <summary>Comes from the environment or user-secrets; never from a committed file.</summary>
    public string? Password { get; set; }

    /// <summary>How long one SMTP command may take before the connection is dropped.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Path of a certificate file (PEM or DER) to trust for a private relay: the server's own
    /// self-signed certificate, or the private CA that issued it. Relative paths are under the
    /// content root. Public relays need nothing here.
    /// </summary>
    public string? TrustedCertificate { get; set; }
}

/// <summary>Settings under <c>Email:Delivery</c>.</summary>
public sealed class DeliveryOptions
{
    /// <summary>SMTP connections used in parallel, each reused for many messages.</summary>
    public int Connections { get; set; } = 2;

    /// <summary>Attempts before a message that keeps failing transiently is parked as dead.</summary>
    public int MaxAttempts { get; set; } = 10;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a claimed message is held before another worker may take it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the outbox table is swept for due messages the channel did not announce.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A pending message older than this makes <c>/health/ready</c> Degraded: mail is late.</summary>
    public TimeSpan MaxPendingAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many due messages one claim takes.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// How long sent and skipped messages are kept before housekeeping deletes them; longer than
    /// every cooldown that reads the outbox (validated in <c>Housekeeping.RetentionValidator</c>).
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}
