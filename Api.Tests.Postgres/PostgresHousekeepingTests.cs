using Accounts.Api.Housekeeping;
using Accounts.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests;

/// <summary>Housekeeping on a shared PostgreSQL database: one instance at a time.</summary>
public sealed class PostgresHousekeepingTests
{
    [Fact]
    public async Task A_run_while_another_instance_holds_the_housekeeping_lock_deletes_nothing_and_the_next_one_does_the_work()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = TestApp.StartWithSmtp(out _, time: time);
        await app.LoginAsync("nobody", "a guess");
        time.Advance(TimeSpan.FromHours(1));
        var housekeeper = app.Services.GetRequiredService<Housekeeper>();

        await using (var other = await TestStorage.OpenAsync(app.Directory))
        {
            Assert.True(await other.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@Key);", new { Key = Housekeeper.AdvisoryLock }));
            Assert.Null(await housekeeper.RunAsync());
            Assert.Equal(1, await app.ScalarAsync<long>("SELECT COUNT(*) FROM login_failures;"));
            // Released before the session ends: a closed session's locks go only once its backend has exited.
            Assert.True(await other.ExecuteScalarAsync<bool>("SELECT pg_advisory_unlock(@Key);", new { Key = Housekeeper.AdvisoryLock }));
        }

        // The other instance is done.
        var result = await housekeeper.RunAsync();
        Assert.Equal(1, result!.SignInFailures);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT COUNT(*) FROM login_failures;"));
    }
}
