using Accounts.Api.Email;
using Accounts.Api.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// Mail that a test puts in the outbox itself, as a feature would: messages of the kind
/// <c>greeting</c>, composed as a short hello, for the tests of delivery that need no account.
/// </summary>
public static class TestOutbox
{
    /// <summary>Retries after 50–200 ms instead of seconds, so that faults play out quickly.</summary>
    private static readonly Dictionary<string, string?> FastRetries = new()
    {
        ["Email:Delivery:InitialBackoff"] = "00:00:00.050",
        ["Email:Delivery:MaxBackoff"] = "00:00:00.200",
        ["Email:Delivery:SweepInterval"] = "00:00:01",
    };

    /// <summary>An app sending to <paramref name="smtp"/> that composes greetings and retries quickly; <paramref name="settings"/> override both.</summary>
    public static TestApp StartApp(TestSmtpServer smtp, Dictionary<string, string?>? settings = null) =>
        TestApp.Start(smtp, FastRetries.With(settings), services: AddGreetings);

    /// <summary>Registers the composer of greetings.</summary>
    public static void AddGreetings(IServiceCollection services) =>
        services.AddKeyedScoped<IEmailComposer, GreetingComposer>("greeting");

    /// <summary>Commits <paramref name="count"/> messages to the outbox, one to each of user1@example.com, user2@…, and announces them.</summary>
    public static async Task<string[]> EnqueueAsync(TestApp app, int count, string kind = "greeting")
    {
        var database = app.Services.GetRequiredService<Database>();
        var signal = app.Services.GetRequiredService<OutboxSignal>();
        var recipients = Enumerable.Range(1, count).Select(i => $"user{i}@example.com").ToArray();
        var ids = await database.WriteAsync(async session =>
        {
            var added = new List<long>();
            foreach (var recipient in recipients)
            {
                added.Add(await session.Outbox.AddAsync(
                    new NewOutboxMessage(kind, [recipient], null, "en"), DateTimeOffset.UtcNow));
            }

            return added;
        });
        foreach (var id in ids)
        {
            signal.Notify();
        }

        return recipients;
    }

    /// <summary>"Hello", with the message's id in the text.</summary>
    public sealed class GreetingComposer : IEmailComposer
    {
        public Task<EmailContent?> ComposeAsync(OutboxMessage message, CancellationToken cancellationToken) =>
            Task.FromResult<EmailContent?>(new EmailContent("Hello", $"Hello, message {message.Id}.", null));
    }
}
