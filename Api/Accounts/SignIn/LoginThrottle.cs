using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
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
    /// <summary>The 429 for a locked login, with <c>Retry-After</c> when it may try again.</summary>
    public static ProblemHttpResult TooManyAttempts(HttpResponse response, TimeSpan locked)
    {
        var seconds = (int)Math.Ceiling(locked.TotalSeconds);
        response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Problem(StatusCodes.Status429TooManyRequests, AccountErrors.TooManyAttempts,
            "Too many failed sign-ins.", $"Try again in {seconds} seconds, or reset the password.");
    }

    /// <summary>How long the login stays locked, or zero when it may try now.</summary>
    public async Task<TimeSpan> LockedForAsync(string loginKey, CancellationToken cancellationToken)
    {
        const string sql = "SELECT locked_until FROM login_failures WHERE login_key = @Key;";
        var lockedUntil = await database.ReadAsync(session => session.ScalarAsync<DateTimeOffset?>(sql, new { Key = loginKey }), cancellationToken);
        var left = lockedUntil is { } until ? until - time.GetUtcNow() : TimeSpan.Zero;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// Counts a failure with one atomic upsert, so failures arriving together, at one instance or
    /// several, are each counted and never wait to retry: a login under attack is one hot row.
    /// </summary>
    public Task RecordFailureAsync(string loginKey, CancellationToken cancellationToken)
    {
        const string count = """
            INSERT INTO login_failures (login_key, failures, last_failure_at, locked_until)
            VALUES (@Key, 1, @Now, NULL)
            ON CONFLICT (login_key) DO UPDATE
            SET failures = CASE WHEN login_failures.last_failure_at > @WindowStart THEN login_failures.failures + 1 ELSE 1 END,
                last_failure_at = excluded.last_failure_at,
                locked_until = CASE WHEN login_failures.last_failure_at > @WindowStart THEN login_failures.locked_until END
            RETURNING failures;
            """;
        // Of two failures locking at once, the longer lock stands.
        const string lockOut = """
            UPDATE login_failures SET locked_until = @LockedUntil
            WHERE login_key = @Key AND (locked_until IS NULL OR locked_until < @LockedUntil);
            """;
        var settings = options.Value;
        var now = time.GetUtcNow();
        return database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
        {
            var failures = await session.ScalarAsync<long>(count, new { Key = loginKey, Now = now, WindowStart = now - settings.FailureWindow });
            return failures >= settings.MaxFailures
                ? await session.ExecuteAsync(lockOut, new { Key = loginKey, LockedUntil = now + LockFor(failures, settings) })
                : 0;
        }, cancellationToken);
    }

    /// <summary>Forgets the login's failures; writes only when there are some.</summary>
    public async Task ClearAsync(string loginKey, CancellationToken cancellationToken)
    {
        const string exists = "SELECT EXISTS (SELECT 1 FROM login_failures WHERE login_key = @Key);";
        if (!await database.ReadAsync(session => session.ScalarAsync<bool>(exists, new { Key = loginKey }), cancellationToken))
        {
            return;
        }

        await database.WriteAsync(
            session => session.ExecuteAsync("DELETE FROM login_failures WHERE login_key = @Key;", new { Key = loginKey }),
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
