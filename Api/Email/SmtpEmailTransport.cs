using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Accounts.Api.Email;

/// <summary>
/// Sends through an SMTP relay with MailKit. Connections stay open and are reused for many
/// messages; each <see cref="SmtpClient"/> serves one send at a time (it is not thread-safe). A
/// send takes an idle connection or opens one, so there are never more connections than sends
/// that ran at once; how many those are is the delivery worker's one limit, its
/// <c>Email:Delivery:Connections</c> sender loops.
/// </summary>
public sealed partial class SmtpEmailTransport : IEmailTransport, IAsyncDisposable
{
    /// <summary>A connection idle longer than this is checked with NOOP before it is reused.</summary>
    private static readonly TimeSpan IdleCheckAfter = TimeSpan.FromSeconds(30);

    /// <summary>An AUTH unanswered this long is reported as a stall (a healthy relay answers in milliseconds).</summary>
    internal static readonly TimeSpan AuthStallWarning = TimeSpan.FromSeconds(5);

    private readonly SmtpOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SmtpEmailTransport> _logger;
    private readonly DeliveryHealth _health;
    private readonly ConcurrentBag<PooledClient> _idle = [];
    private readonly X509Certificate2? _trusted;

    public SmtpEmailTransport(
        IOptions<EmailOptions> options, IHostEnvironment environment, TimeProvider time, DeliveryHealth health, ILogger<SmtpEmailTransport> logger)
    {
        _health = health;
        _options = options.Value.Smtp;
        _time = time;
        _logger = logger;
        if (!string.IsNullOrEmpty(_options.TrustedCertificate))
        {
            _trusted = LoadCertificate(Path.GetFullPath(_options.TrustedCertificate, environment.ContentRootPath));
        }
    }

    /// <summary>Reads one certificate from a PEM or DER file.</summary>
    internal static X509Certificate2 LoadCertificate(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0
            ? X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(bytes))
            : X509CertificateLoader.LoadCertificate(bytes);
    }

    /// <summary>
    /// The system's verdict, widened by <c>Email:Smtp:TrustedCertificate</c>: the server may present
    /// exactly that certificate (a self-signed relay, whatever name it carries), or one that chains
    /// to it and names the host.
    /// </summary>
    internal static bool Validate(X509Certificate2? trusted, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (trusted is null || certificate is null)
        {
            return false;
        }

        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (presented.RawDataMemory.Span.SequenceEqual(trusted.RawDataMemory.Span))
        {
            return true;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(presented);
    }

    public async Task SendAsync(MimeMessage message, Uri? actionUrl, CancellationToken cancellationToken)
    {
        PooledClient? pooled = null;
        try
        {
            pooled = await RentAsync(cancellationToken);
            await pooled.Client.SendAsync(message, cancellationToken);
            pooled.LastUsed = _time.GetUtcNow();
            _idle.Add(pooled);
            pooled = null;
        }
        catch (SmtpCommandException)
        {
            // The server refused this message but the session is intact: keep the connection.
            if (pooled is { Client.IsConnected: true })
            {
                pooled.LastUsed = _time.GetUtcNow();
                _idle.Add(pooled);
                pooled = null;
            }

            throw;
        }
        finally
        {
            if (pooled is not null)
            {
                // Broken or timed out: a QUIT would only wait on a server that is not listening.
                await CloseAsync(pooled.Client, quit: false);
            }
        }
    }

    private async Task<PooledClient> RentAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryTake(out var pooled))
        {
            if (pooled.Client.IsConnected && await IsAliveAsync(pooled, cancellationToken))
            {
                return pooled;
            }

            await CloseAsync(pooled.Client, quit: false);
        }

        var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        if (_trusted is not null)
        {
            var trusted = _trusted;
            client.ServerCertificateValidationCallback = (_, certificate, chain, errors) => Validate(trusted, certificate, chain, errors);
        }

        try
        {
            await client.ConnectAsync(_options.Host ?? "", _options.Port, ToSocketOptions(_options.Security), cancellationToken);
            if (!string.IsNullOrEmpty(_options.Username))
            {
                await AuthenticateAsync(client, cancellationToken);
            }
        }
        catch
        {
            await CloseAsync(client, quit: false);
            throw;
        }

        LogConnected(_options.Host!, _options.Port, client.IsSecure);
        return new PooledClient(client) { LastUsed = _time.GetUtcNow() };
    }

    /// <summary>
    /// AUTH, with its failures named: a refusal (535), or no answer at all, which is how some relays
    /// treat a wrong password (they stall until the client gives up, after <c>Email:Smtp:Timeout</c>).
    /// A healthy relay answers in well under <see cref="AuthStallWarning"/>; past it the stall is
    /// reported to <see cref="DeliveryHealth"/> (and logged) while the send still waits.
    /// </summary>
    private async Task AuthenticateAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        var host = $"{_options.Host}:{_options.Port}";
        var stalled = false;
        using var warning = _time.CreateTimer(
            _ =>
            {
                stalled = true;
                _health.Stalled($"{host} has not answered AUTH for a while; a relay that stalls on a wrong "
                    + "Email:Smtp:Username or Email:Smtp:Password does this");
            },
            null,
            _options.Timeout < 2 * AuthStallWarning ? _options.Timeout / 2 : AuthStallWarning,
            Timeout.InfiniteTimeSpan);
        try
        {
            await client.AuthenticateAsync(_options.Username ?? "", _options.Password ?? "", cancellationToken);
        }
        catch (AuthenticationException ex)
        {
            throw new SmtpAuthenticationFailedException(
                $"SMTP authentication refused by {host}: {ex.Message} Check Email:Smtp:Username and Email:Smtp:Password "
                + "(for QQ Mail, Gmail and Outlook the password is the mailbox's authorization code or app password).",
                ex);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new SmtpAuthenticationFailedException(
                $"SMTP authentication failed: {host} did not answer AUTH within {_options.Timeout.TotalSeconds:0} s "
                + "(relays that stall on a wrong password do this; check Email:Smtp:Username and Email:Smtp:Password).",
                ex);
        }
        catch (SmtpCommandException ex)
        {
            throw new SmtpAuthenticationFailedException($"SMTP authentication failed at {host}: {(int)ex.StatusCode} {ex.Message}", ex);
        }
        finally
        {
            if (Volatile.Read(ref stalled))
            {
                _health.Stalled(null);
            }
        }
    }

    private async Task<bool> IsAliveAsync(PooledClient pooled, CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() - pooled.LastUsed < IdleCheckAfter)
        {
            return true;
        }

        try
        {
            await pooled.Client.NoOpAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task CloseAsync(SmtpClient client, bool quit)
    {
        try
        {
            if (client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(quit, timeout.Token);
            }
        }
        catch (Exception)
        {
            // The connection is being thrown away; a failed QUIT changes nothing.
        }
        finally
        {
            client.Dispose();
        }
    }

    internal static SecureSocketOptions ToSocketOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        _ => SecureSocketOptions.Auto,
    };

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var pooled))
        {
            await CloseAsync(pooled.Client, quit: true);
        }

        _trusted?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connected to SMTP server {Host}:{Port} (TLS: {Secure})")]
    private partial void LogConnected(string host, int port, bool secure);

    private sealed class PooledClient(SmtpClient client)
    {
        public SmtpClient Client { get; } = client;

        public DateTimeOffset LastUsed { get; set; }
    }
}
