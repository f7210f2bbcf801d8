using MimeKit;

namespace Accounts.Api.Email;

/// <summary>Hands a composed message to the world. Implementations must be safe to call concurrently.</summary>
public interface IEmailTransport
{
    /// <param name="actionUrl">The link the message carries; only development transports log it.</param>
    Task SendAsync(MimeMessage message, Uri? actionUrl, CancellationToken cancellationToken);
}

/// <summary>
/// Writes each message as an <c>.eml</c> file and logs its link: works with nothing installed.
/// Meant for development; the files hold live links.
/// </summary>
public sealed partial class PickupEmailTransport(string directory, ILogger<PickupEmailTransport> logger) : IEmailTransport
{
    public async Task SendAsync(MimeMessage message, Uri? actionUrl, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var name = $"{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff}-{Guid.NewGuid():N}.eml";
        var path = Path.Combine(directory, name);
        var temporary = path + ".tmp";
        await message.WriteToAsync(temporary, cancellationToken);
        File.Move(temporary, path);
        LogWritten(path, message.To, message.Subject ?? "", actionUrl);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail to {Recipients} written to {Path}: \"{Subject}\" {ActionUrl}")]
    private partial void LogWritten(string path, InternetAddressList recipients, string subject, Uri? actionUrl);
}

/// <summary>Only logs the message; nothing is delivered.</summary>
public sealed partial class LogEmailTransport(ILogger<LogEmailTransport> logger) : IEmailTransport
{
    public Task SendAsync(MimeMessage message, Uri? actionUrl, CancellationToken cancellationToken)
    {
        LogMessage(message.To, message.Subject ?? "", actionUrl);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail to {Recipients} not sent (Log transport): \"{Subject}\" {ActionUrl}")]
    private partial void LogMessage(InternetAddressList recipients, string subject, Uri? actionUrl);
}
