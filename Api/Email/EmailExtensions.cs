using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Email;

public static class EmailExtensions
{
    /// <summary>The outbox, its wake-up signal, the delivery worker, the configured transport and the outbox's health check.</summary>
    public static IServiceCollection AddEmailDelivery(this IServiceCollection services)
    {
        services.AddValidatedOptions<EmailOptions, EmailOptions.Validator>(EmailOptions.SectionName);
        services.AddSingleton<Outbox>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<DeliveryMetrics>();
        services.AddSingleton<DeliveryHealth>();
        services.AddWebhooks();
        services.AddSingleton<MessageSender>();
        services.AddSingleton<IEmailTransport>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<EmailOptions>>().Value;
            return options.Transport switch
            {
                EmailTransportKind.Smtp => ActivatorUtilities.CreateInstance<SmtpEmailTransport>(provider),
                EmailTransportKind.Log => ActivatorUtilities.CreateInstance<LogEmailTransport>(provider),
                _ => ActivatorUtilities.CreateInstance<PickupEmailTransport>(
                    provider,
                    Path.GetFullPath(options.PickupDirectory, provider.GetRequiredService<IHostEnvironment>().ContentRootPath)),
            };
        });
        services.AddHostedService<EmailDeliveryService>();
        services.AddHealthChecks().AddCheck<EmailHealthCheck>("email", tags: [Health.ReadyTag]);
        return services;
    }
}
