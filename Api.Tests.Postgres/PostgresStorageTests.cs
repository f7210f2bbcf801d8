using Accounts.Api.Email;
using Accounts.Api.Storage;
using Accounts.Api.Tests.Infrastructure;
using Dapper;

namespace Accounts.Api.Tests;

/// <summary>PostgreSQL's side of the storage seam: migrations, serializable retries, and claims that never overlap.</summary>
public sealed class PostgresStorageTests : IDisposable
{
    private readonly TemporaryDatabase _folder = new("accounts-postgres-storage-");

    [Fact]
    public async Task Instances_migrating_at_the_same_moment_apply_each_script_once()
    {
        var databases = Enumerable.Range(0, 4).Select(_ => _folder.Create()).ToArray();
        try
        {
            var applied = await Task.WhenAll(databases.Select(d => d.MigrateAsync()));

            Assert.Equal(databases[0].LatestSchemaVersion, applied.Sum());
            Assert.Equal(0, await databases[0].MigrateAsync());
            Assert.Equal(databases[0].LatestSchemaVersion, await databases[0].GetSchemaVersionAsync());
            await using var connection = await databases[0].OpenAsync();
            Assert.Equal(
                ["account_tokens", "code_failures", "login_failures", "outbox", "refresh_tokens", "schema_version", "sessions", "storage_probe", "users"],
                (await connection.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;")).ToArray());
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Serializable_writes_that_read_and_then_write_one_row_at_the_same_moment_lose_no_update()
    {
        await using var database = _folder.Create();
        await using (var setup = await database.OpenAsync())
        {
            await setup.ExecuteAsync("CREATE TABLE counter (n bigint NOT NULL); INSERT INTO counter VALUES (0);");
        }

        // Read, then write what was read plus one: at READ COMMITTED, concurrent runs would overwrite
        // each other. Every lost race means another run committed, so as many runs as a write has
        // attempts all get through.
        await Task.WhenAll(Enumerable.Range(0, PostgresDatabase.MaxAttempts).Select(_ => database.WriteAsync(async session =>
        {
            var n = await session.ScalarAsync<long>("SELECT n FROM counter;");
            return await session.ExecuteAsync("UPDATE counter SET n = @N;", new { N = n + 1 });
        })));

        await using var reader = await database.OpenAsync();
        Assert.Equal(PostgresDatabase.MaxAttempts, await reader.ExecuteScalarAsync<long>("SELECT n FROM counter;"));
    }

    [Fact]
    public async Task A_write_that_fails_for_its_own_reasons_is_not_run_again()
    {
        await using var database = _folder.Create();
        var runs = 0;

        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => database.WriteAsync(session =>
        {
            Interlocked.Increment(ref runs);
            return session.ExecuteAsync("SELECT 1 / 0;");
        }));

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task A_write_that_loses_its_race_on_every_retry_is_a_storage_fault_not_a_bug()
    {
        await using var database = _folder.Create();
        var runs = 0;

        var fault = await Assert.ThrowsAsync<StorageUnavailableException>(() => database.WriteAsync<int>(session =>
        {
            Interlocked.Increment(ref runs);
            throw new Npgsql.PostgresException("could not serialize access", "ERROR", "ERROR", Npgsql.PostgresErrorCodes.SerializationFailure);
        }));

        Assert.Equal(PostgresDatabase.MaxAttempts, runs);
        Assert.Equal("the write conflicted with others on every retry", fault.Reason);
        Assert.NotNull(database.WriteFault);
        Assert.Equal(1, await database.WriteAsync(session => session.ScalarAsync<int>("SELECT 1;")));
        Assert.Null(database.WriteFault);
    }

    [Fact]
    public async Task A_unique_key_violated_on_every_retry_stays_the_provider_s_error()
    {
        await using var database = _folder.Create();

        var violation = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => database.WriteAsync<int>(session =>
            throw new Npgsql.PostgresException("duplicate key value", "ERROR", "ERROR", Npgsql.PostgresErrorCodes.UniqueViolation)));

        Assert.Equal(Npgsql.PostgresErrorCodes.UniqueViolation, violation.SqlState);
        Assert.Null(database.WriteFault);
    }

    [Fact]
    public async Task Two_instances_claiming_at_the_same_moment_never_take_the_same_row()
    {
        const int rows = 400;
        await using var first = _folder.Create();
        await using var second = _folder.Create();
        await first.MigrateAsync();
        var past = DateTimeOffset.UtcNow.AddSeconds(-1);
        await first.WriteAsync(async session =>
        {
            for (var i = 0; i < rows; i++)
            {
                await session.Outbox.AddAsync(new NewOutboxMessage("greeting", [$"r{i}@example.com"], null, "en"), past);
            }

            return rows;
        });
        var stores = new[] { new Outbox(first, TimeProvider.System), new Outbox(second, TimeProvider.System) };

        // Each takes its first batch before either goes on, so both claim whatever the scheduler does;
        // from there they race for the rest.
        var firstBatches = stores.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var claimed = await Task.WhenAll(stores.Select(async (store, index) =>
        {
            var mine = new List<long>();
            IReadOnlyList<OutboxMessage> batch;
            do
            {
                batch = await store.ClaimDueAsync(7, TimeSpan.FromMinutes(1), [], CancellationToken.None);
                mine.AddRange(batch.Select(m => m.Id));
                if (firstBatches[index].TrySetResult())
                {
                    await Task.WhenAll(firstBatches.Select(b => b.Task)).WaitAsync(TimeSpan.FromSeconds(30));
                }
            }
            while (batch.Count > 0);

            return mine;
        }));

        Assert.Empty(claimed[0].Intersect(claimed[1]));
        Assert.Equal(rows, claimed[0].Count + claimed[1].Count);
        Assert.True(claimed[0].Count > 0 && claimed[1].Count > 0, $"both instances claimed ({claimed[0].Count} and {claimed[1].Count})");
        await using var connection = await first.OpenAsync();
        var owners = (await connection.QueryAsync<string>("SELECT DISTINCT lease_owner FROM outbox;")).Order().ToArray();
        Assert.Equal(stores.Select(s => s.LeaseOwner).Order(), owners);
    }

    [Fact]
    public async Task A_stopping_instance_gives_back_only_its_own_leases()
    {
        await using var database = _folder.Create();
        await database.MigrateAsync();
        var past = DateTimeOffset.UtcNow.AddSeconds(-1);
        await database.WriteAsync(async session =>
        {
            for (var i = 0; i < 4; i++)
            {
                await session.Outbox.AddAsync(new NewOutboxMessage("greeting", [$"r{i}@example.com"], null, "en"), past);
            }

            return 4;
        });
        var stopping = new Outbox(database, TimeProvider.System);
        var running = new Outbox(database, TimeProvider.System);
        var given = await stopping.ClaimDueAsync(2, TimeSpan.FromMinutes(1), [], CancellationToken.None);
        var kept = await running.ClaimDueAsync(2, TimeSpan.FromMinutes(1), [], CancellationToken.None);

        Assert.Equal(2, await stopping.ReleaseLeasesAsync(everyOwner: false, CancellationToken.None));

        await using var connection = await database.OpenAsync();
        var leased = (await connection.QueryAsync<long>("SELECT id FROM outbox WHERE lease_until IS NOT NULL ORDER BY id;")).ToArray();
        Assert.Equal(kept.Select(m => m.Id).Order(), leased);
        Assert.Empty(given.Select(m => m.Id).Intersect(leased));
    }

    public void Dispose() => _folder.Dispose();
}
