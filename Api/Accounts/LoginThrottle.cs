using Accounts.Api.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>
/// Slows down password guessing: after <c>Login:MaxFailures</c> failed sign-ins for one login
/// (a username or an email, whether or not it has an account, so the answer never tells), that
/// login is locked for <c>Login:Lockout</c>, doubling with each further failure up to
/// <c>Login:MaxLockout</c>. A success clears the count; failures older than
/// <c>Login:FailureWindow</c> are forgotten. Kept in the database, so a restart does not reset it.
/// </summary>
public sealed class LoginThrottle(Database database, IOptions<LoginOptions> options, TimeProvider time)
{
    /// <summary>How long the login stays locked, or zero when it may try now.</summary>
    public async Task<TimeSpan> LockedForAsync(string loginKey, CancellationToken cancellationToken)
    {
        const string sql = "SELECT locked_until FROM login_failures WHERE login_key = @Key;";
        await using var connection = await database.OpenAsync(cancellationToken);
        var lockedUntil = await connection.ExecuteScalarAsync<long?>(sql, new { Key = loginKey });
        var left = lockedUntil is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) - time.GetUtcNow() : TimeSpan.Zero;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    public Task RecordFailureAsync(string loginKey, CancellationToken cancellationToken)
    {
        const string read = "SELECT failures, last_failure_at FROM login_failures WHERE login_key = @Key;";
        const string write = """
            INSERT INTO login_failures (login_key, failures, last_failure_at, locked_until)
            VALUES (@Key, @Failures, @Now, @LockedUntil)
            ON CONFLICT (login_key) DO UPDATE
            SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until;
            """;
        var settings = options.Value;
        var now = time.GetUtcNow();
        return database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<(long Failures, long LastFailureAt)?>(read, new { Key = loginKey }, transaction);
            var recent = row is { } r && now - DateTimeOffset.FromUnixTimeMilliseconds(r.LastFailureAt) < settings.FailureWindow;
            var failures = recent ? row!.Value.Failures + 1 : 1;
            DateTimeOffset? lockedUntil = failures >= settings.MaxFailures ? now + LockFor(failures, settings) : null;
            return await connection.ExecuteAsync(write, new { Key = loginKey, Failures = failures, Now = now, LockedUntil = lockedUntil }, transaction);
        }, cancellationToken);
    }

    /// <summary>Forgets the login's failures; writes only when there are some.</summary>
    public async Task ClearAsync(string loginKey, CancellationToken cancellationToken)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            if (!await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM login_failures WHERE login_key = @Key);", new { Key = loginKey }))
            {
                return;
            }
        }

        await database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync("DELETE FROM login_failures WHERE login_key = @Key;", new { Key = loginKey }, transaction),
            cancellationToken);
    }

    /// <summary>Lockout × 2^(failures − MaxFailures), at most MaxLockout.</summary>
    internal static TimeSpan LockFor(long failures, LoginOptions settings)
    {
        var doublings = (int)Math.Min(failures - settings.MaxFailures, 30);
        var length = settings.Lockout.TotalMilliseconds * Math.Pow(2, doublings);
        return TimeSpan.FromMilliseconds(Math.Min(length, settings.MaxLockout.TotalMilliseconds));
    }
}
