using Microsoft.Extensions.Options;
using MimeKit;

namespace Accounts.Api.Email;

public sealed partial class EmailOptions
{
    /// <summary>The rules of <c>Email</c>; every message names its key.</summary>
    internal sealed class Validator(IHostEnvironment environment, IEnumerable<EmailTemplateCatalog> catalogs) : IValidateOptions<EmailOptions>
    {
        public ValidateOptionsResult Validate(string? name, EmailOptions options)
        {
            var failures = new List<string>();
            if (environment.IsProduction() && options.Transport != EmailTransportKind.Smtp && !options.AllowDevelopmentTransport)
            {
                failures.Add($"Email:Transport is '{options.Transport}', which delivers no mail; in Production set it to 'Smtp' "
                    + "(or set Email:AllowDevelopmentTransport to true to run without mail on purpose).");
            }

            if (string.IsNullOrWhiteSpace(options.PickupDirectory))
            {
                failures.Add("Email:PickupDirectory must not be empty.");
            }

            if (options.From is not null && !MailboxAddress.TryParse(options.From, out _))
            {
                failures.Add($"Email:From '{options.From}' is not an email address.");
            }

            if (options.SupportAddress is not null && !MailboxAddress.TryParse(options.SupportAddress, out _))
            {
                failures.Add($"Email:SupportAddress '{options.SupportAddress}' is not an email address.");
            }

            if (string.IsNullOrWhiteSpace(options.ProductName))
            {
                failures.Add("Email:ProductName must not be empty.");
            }

            if (options.Smtp.Port is < 1 or > 65535)
            {
                failures.Add("Email:Smtp:Port must be between 1 and 65535.");
            }

            if (options.Transport == EmailTransportKind.Smtp && string.IsNullOrWhiteSpace(options.Smtp.Host))
            {
                failures.Add("Email:Smtp:Host is required when Email:Transport is 'Smtp'.");
            }

            if (!string.IsNullOrEmpty(options.Smtp.Username) && string.IsNullOrEmpty(options.Smtp.Password))
            {
                failures.Add("Email:Smtp:Password is required when Email:Smtp:Username is set "
                    + "(set it with user-secrets or the Email__Smtp__Password environment variable).");
            }

            if (options.Smtp.Timeout <= TimeSpan.Zero)
            {
                failures.Add("Email:Smtp:Timeout must be positive.");
            }

            if (!string.IsNullOrEmpty(options.Smtp.TrustedCertificate))
            {
                var path = Path.GetFullPath(options.Smtp.TrustedCertificate, environment.ContentRootPath);
                try
                {
                    using var certificate = SmtpEmailTransport.LoadCertificate(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    failures.Add($"Email:Smtp:TrustedCertificate '{path}' cannot be read as a PEM or DER certificate: {ex.Message}");
                }
            }

            if (options.TemplatesDirectory is { } templates)
            {
                var path = Path.GetFullPath(templates, environment.ContentRootPath);
                failures.AddRange(EmailTemplates.Check([.. catalogs], path).Select(problem => $"Email:TemplatesDirectory '{path}': {problem}"));
            }

            var delivery = options.Delivery;
            if (delivery.Connections is < 1 or > 64)
            {
                failures.Add("Email:Delivery:Connections must be between 1 and 64.");
            }

            if (delivery.MaxAttempts < 1)
            {
                failures.Add("Email:Delivery:MaxAttempts must be at least 1.");
            }

            if (delivery.BatchSize is < 1 or > 10_000)
            {
                failures.Add("Email:Delivery:BatchSize must be between 1 and 10000.");
            }

            if (delivery.InitialBackoff <= TimeSpan.Zero)
            {
                failures.Add("Email:Delivery:InitialBackoff must be positive.");
            }

            if (delivery.MaxBackoff < delivery.InitialBackoff)
            {
                failures.Add("Email:Delivery:MaxBackoff must not be less than Email:Delivery:InitialBackoff.");
            }

            if (delivery.Lease <= TimeSpan.Zero)
            {
                failures.Add("Email:Delivery:Lease must be positive.");
            }

            if (delivery.MaxPendingAge <= TimeSpan.Zero)
            {
                failures.Add("Email:Delivery:MaxPendingAge must be positive.");
            }

            if (delivery.SweepInterval <= TimeSpan.Zero)
            {
                failures.Add("Email:Delivery:SweepInterval must be positive.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
