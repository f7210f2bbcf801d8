using Accounts.Api.Email;
using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;

namespace Accounts.Api.Tests.Email;

public sealed class OutboxClaimTests : IDisposable
{
    private readonly TemporaryDatabase _folder = new("accounts-claim-");

    [Fact]
    public async Task A_claim_neither_returns_nor_leases_the_rows_this_process_still_has_in_flight()
    {
        TypeHandlers.Register();
        await using var database = _folder.Create();
        await Migrations.ApplyAsync(database);
        var store = new Outbox(database, TimeProvider.System);
        var past = DateTimeOffset.UtcNow.AddSeconds(-1);
        var ids = await database.WriteAsync(async session => new[]
        {
            await session.Outbox.AddAsync(new NewOutboxMessage("greeting", ["a@example.com"], null, "en"), past),
            await session.Outbox.AddAsync(new NewOutboxMessage("greeting", ["b@example.com"], null, "en"), past),
        });

        var first = await store.ClaimDueAsync(10, TimeSpan.FromMinutes(1), [ids[0]], CancellationToken.None);

        Assert.Equal([ids[1]], first.Select(m => m.Id));
        await using (var connection = await database.OpenAsync())
        {
            Assert.Null(await connection.ExecuteScalarAsync<long?>("SELECT lease_until FROM outbox WHERE id = @Id;", new { Id = ids[0] }));
        }

        var second = await store.ClaimDueAsync(10, TimeSpan.FromMinutes(1), [], CancellationToken.None);
        Assert.Equal([ids[0]], second.Select(m => m.Id));
    }

    public void Dispose() => _folder.Dispose();
}
