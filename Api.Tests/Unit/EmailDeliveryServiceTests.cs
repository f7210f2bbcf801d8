using Accounts.Api.Email;

namespace Accounts.Api.Tests.Unit;

/// <summary>The retry schedule: exponential from InitialBackoff, ±25% jitter, capped at MaxBackoff.</summary>
public sealed class EmailDeliveryServiceTests
{
    private const int Samples = 500;

    private static readonly DeliveryOptions Options = new()
    {
        InitialBackoff = TimeSpan.FromSeconds(10),
        MaxBackoff = TimeSpan.FromHours(1),
    };

    private static TimeSpan[] Sample(int attempt, DeliveryOptions options) =>
        [.. Enumerable.Range(0, Samples).Select(_ => MessageSender.Backoff(attempt, options))];

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(4, 80)]
    [InlineData(5, 160)]
    [InlineData(8, 1280)]
    [InlineData(9, 2560)]
    public void Backoff_doubles_from_the_initial_delay_within_25_percent_jitter(int attempt, int nominalSeconds)
    {
        var nominal = TimeSpan.FromSeconds(nominalSeconds);

        Assert.All(Sample(attempt, Options), delay =>
        {
            Assert.InRange(delay, nominal * 0.75, nominal * 1.25);
        });
    }

    [Fact]
    public void Backoff_is_jittered()
    {
        var delays = Sample(3, Options);

        Assert.True(delays.Distinct().Count() > 1, "every delay was the same");
        Assert.Contains(delays, d => d < TimeSpan.FromSeconds(40));
        Assert.Contains(delays, d => d > TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void Each_attempt_waits_longer_than_the_one_before_on_average()
    {
        var averages = Enumerable.Range(1, 8)
            .Select(attempt => Sample(attempt, Options).Average(d => d.TotalMilliseconds))
            .ToArray();

        for (var i = 1; i < averages.Length; i++)
        {
            Assert.InRange(averages[i] / averages[i - 1], 1.8, 2.2);
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(int.MaxValue)]
    public void Backoff_past_the_maximum_stays_within_jitter_below_the_maximum(int attempt)
    {
        Assert.All(Sample(attempt, Options), delay =>
        {
            Assert.InRange(delay, Options.MaxBackoff * 0.75, Options.MaxBackoff);
        });
    }

    [Fact]
    public void Backoff_never_exceeds_the_maximum_even_where_jitter_would_push_past_it()
    {
        // Attempt 9 is 2560 s nominal, up to 3200 s jittered; attempt 10 is 5120 s nominal, capped at 3600 s.
        var delays = Enumerable.Range(1, 40).SelectMany(attempt => Sample(attempt, Options));

        Assert.All(delays, delay => Assert.True(delay <= Options.MaxBackoff, $"{delay} exceeds {Options.MaxBackoff}"));
    }

    [Fact]
    public void Backoff_respects_a_configured_schedule()
    {
        var options = new DeliveryOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = TimeSpan.FromSeconds(1),
        };

        Assert.All(Sample(1, options), d => Assert.InRange(d, TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(250)));
        Assert.All(Sample(2, options), d => Assert.InRange(d, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(500)));
        Assert.All(Sample(3, options), d => Assert.InRange(d, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(1)));
        Assert.All(Sample(4, options), d => Assert.InRange(d, TimeSpan.FromMilliseconds(750), TimeSpan.FromSeconds(1)));
    }
}
