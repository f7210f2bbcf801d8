using System.Diagnostics.Metrics;
using Accounts.Api.Accounts;
using Accounts.Api.Email;
using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Housekeeping;

/// <summary>What one run deleted, rule by rule.</summary>
public sealed record HousekeepingResult(long Tokens, long CodeTries, long Mails, long SignInFailures, long PendingAccounts, long Sessions, long RefreshTokens);

/// <summary>
/// Deletes what has outlived its use, so no table grows without bound (the "Data lifecycle" of the
/// design): expired links and codes, old sent and skipped mails, stale sign-in failures and code
/// tries, accounts never activated within <c>Accounts:PendingAccountLifetime</c>, sessions whose
/// newest refresh token expired, and refresh tokens past their lifetime (a retired one is kept
/// until then so that its reuse is recognized; an ended session's rows go when it ends). Each rule
/// deletes in batches of <see cref="BatchSize"/>, one short write each, so the SQLite writer or a
/// PostgreSQL lock is never held for long; on PostgreSQL each batch also takes a transaction-level
/// advisory lock, and a run that finds it held by another instance stops: one instance at a time.
/// </summary>
public sealed partial class Housekeeper
{
    /// <summary>Rows one batch deletes at most.</summary>
    public const int BatchSize = 1_000;

    public const string MeterName = "Accounts.Housekeeping";

    /// <summary>How long an expired link still answers "expired" (with the offer of a new one) before it is deleted and answers "not valid".</summary>
    public static readonly TimeSpan ExpiredLinkGrace = TimeSpan.FromDays(1);

    /// <summary>The PostgreSQL advisory lock each batch takes: one instance at a time.</summary>
    public const long AdvisoryLock = 0x686f7573656b6565; // "housekee"

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly ILogger<Housekeeper> _logger;
    private readonly IOptions<EmailOptions> _email;
    private readonly IOptions<LoginOptions> _login;
    private readonly IOptions<AccountLifetimeOptions> _accounts;
    private readonly TimeSpan _longestCodeLifetime;
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _runs;
    private readonly AccountEvents _events;

    public Housekeeper(
        Database database,
        TimeProvider time,
        ILogger<Housekeeper> logger,
        IMeterFactory meters,
        IOptions<EmailOptions> email,
        IOptions<LoginOptions> login,
        IOptions<AccountLifetimeOptions> accounts,
        IOptions<ActivationOptions> activation,
        IOptions<PasswordResetOptions> reset,
        IOptions<EmailChangeOptions> emailChange,
        AccountEvents events)
    {
        _events = events;
        (_database, _time, _logger, _email, _login, _accounts) = (database, time, logger, email, login, accounts);
        // A code's tries matter only while a code it counted against can still work.
        _longestCodeLifetime = new[] { activation.Value.TokenLifetime, reset.Value.TokenLifetime, emailChange.Value.TokenLifetime }.Max();
        var meter = meters.Create(MeterName);
        _deleted = meter.CreateCounter<long>("accounts.housekeeping.deleted", "{row}", "Rows housekeeping deleted, by rule.");
        _runs = meter.CreateCounter<long>("accounts.housekeeping.runs", "{run}", "Housekeeping runs, by outcome (done, or skipped while another instance ran).");
    }

    /// <summary>The clock's time when the last completed run began (its cutoffs were taken from it); null before the first.</summary>
    public DateTimeOffset? LastRunTime { get; private set; }

    /// <summary>One run of every rule; <c>null</c> when another instance is running them (PostgreSQL).</summary>
    public async Task<HousekeepingResult?> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var tokens = await DeleteAsync("tokens", """
            DELETE FROM account_tokens WHERE token_hash IN
                (SELECT token_hash FROM account_tokens WHERE expires_at < @Cutoff LIMIT @Batch);
            """, new { Cutoff = now - ExpiredLinkGrace, Batch = BatchSize }, cancellationToken);
        var codeTries = tokens is null ? null : await DeleteAsync("code_tries", """
            DELETE FROM code_failures WHERE (purpose, email_key) IN
                (SELECT purpose, email_key FROM code_failures WHERE last_failure_at < @Cutoff LIMIT @Batch);
            """, new { Cutoff = now - _longestCodeLifetime, Batch = BatchSize }, cancellationToken);
        var mails = codeTries is null ? null : await DeleteAsync("mails", """
            DELETE FROM outbox WHERE id IN
                (SELECT id FROM outbox WHERE status IN ('sent', 'skipped') AND created_at < @Cutoff LIMIT @Batch);
            """, new { Cutoff = now - _email.Value.Delivery.Retention, Batch = BatchSize }, cancellationToken);
        var failures = mails is null ? null : await DeleteAsync("sign_in_failures", """
            DELETE FROM login_failures WHERE login_key IN
                (SELECT login_key FROM login_failures
                 WHERE last_failure_at < @Cutoff AND (locked_until IS NULL OR locked_until < @Now) LIMIT @Batch);
            """, new { Cutoff = now - _login.Value.FailureWindow, Now = now, Batch = BatchSize }, cancellationToken);
        var pending = failures is null ? null : await DeletePendingAccountsAsync(now - _accounts.Value.PendingAccountLifetime, cancellationToken);
        var sessions = pending is null ? null : await DeleteAsync("sessions", """
            DELETE FROM sessions WHERE id IN
                (SELECT id FROM sessions WHERE expires_at < @Now LIMIT @Batch);
            """, new { Now = now, Batch = BatchSize }, cancellationToken);
        var refreshTokens = sessions is null ? null : await DeleteAsync("refresh_tokens", """
            DELETE FROM refresh_tokens WHERE token_hash IN
                (SELECT token_hash FROM refresh_tokens WHERE expires_at < @Now LIMIT @Batch);
            """, new { Now = now, Batch = BatchSize }, cancellationToken);
        if (refreshTokens is null)
        {
            _runs.Add(1, new KeyValuePair<string, object?>("outcome", "skipped"));
            LogSkipped(_logger);
            return null;
        }

        var result = new HousekeepingResult(tokens!.Value, codeTries!.Value, mails!.Value, failures!.Value, pending!.Value, sessions!.Value, refreshTokens.Value);
        LastRunTime = now;
        _runs.Add(1, new KeyValuePair<string, object?>("outcome", "done"));
        LogRun(_logger, result.Tokens, result.CodeTries, result.Mails, result.SignInFailures, result.PendingAccounts, result.Sessions, result.RefreshTokens);
        return result;
    }

    /// <summary>Runs one rule's statement batch after batch until a batch deletes less than a full one; null when the lock is held elsewhere.</summary>
    private Task<long?> DeleteAsync(string rule, string sql, object parameters, CancellationToken cancellationToken) =>
        BatchesAsync(rule, session => session.ExecuteAsync(sql, parameters), cancellationToken);

    /// <summary>
    /// Runs <paramref name="batch"/> (which returns how many rows it deleted) in one short write after
    /// another, under the housekeeping lock, until one deletes less than <see cref="BatchSize"/>;
    /// the total, or null when another instance holds the lock.
    /// </summary>
    private async Task<long?> BatchesAsync(string rule, Func<DbSession, Task<int>> batch, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var deleted = await _database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
                await TryLockAsync(session) ? await batch(session) : -1, cancellationToken);
            if (deleted < 0)
            {
                return null;
            }

            total += deleted;
            Count(rule, deleted);
            if (deleted < BatchSize)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// Accounts still pending at <paramref name="cutoff"/>, a batch at a time: the account, its mails
    /// and the failures under its username and address. Its links stay until they expire, so a
    /// link followed later answers "expired". The status is checked again by the delete itself,
    /// so an activation committed meanwhile keeps its account (on PostgreSQL the row lock orders them).
    /// </summary>
    private async Task<long?> DeletePendingAccountsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Their user.deleted events, announced once the batches have committed (a batch tried again may count twice: one more wake-up).
        var queued = 0;
        var erasedCount = await BatchesAsync("pending_accounts", async session =>
        {
            var erased = await session.QueryAsync<ErasedAccount>(
                """
                DELETE FROM users
                WHERE id IN (SELECT id FROM users WHERE status = 'pending_activation' AND created_at < @Cutoff LIMIT @Batch)
                  AND status = 'pending_activation'
                RETURNING id AS Id, username AS Username, email AS Email, username_key AS UsernameKey, email_key AS EmailKey;
                """,
                new { Cutoff = cutoff, Batch = BatchSize });
            if (erased.Count > 0)
            {
                var logins = session.SetOf(erased.SelectMany(a => new[] { a.UsernameKey, a.EmailKey }));
                var emails = session.SetOf(erased.Select(a => a.EmailKey));
                await session.Outbox.DeleteOfErasedAsync(erased.Select(a => Guid.Parse(a.Id)));
                await session.ExecuteAsync($"DELETE FROM login_failures WHERE {session.InSet("login_key", "@Keys")};", new { Keys = logins });
                await session.ExecuteAsync($"DELETE FROM code_failures WHERE {session.InSet("email_key", "@Keys")};", new { Keys = emails });
                var now = _time.GetUtcNow();
                foreach (var account in erased)
                {
                    queued += await _events.QueueAsync(session, AccountEvents.Deleted, Guid.Parse(account.Id), account.Username, account.Email, now);
                }
            }

            return erased.Count;
        }, cancellationToken);
        _events.Announce(queued);
        return erasedCount;
    }

    /// <summary>PostgreSQL: this transaction's hold on the housekeeping lock, false when another instance has it. SQLite has one writer: always true.</summary>
    private static async Task<bool> TryLockAsync(DbSession session) =>
        !session.IsPostgres || await session.ScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@Key);", new { Key = AdvisoryLock });

    private void Count(string rule, long deleted)
    {
        if (deleted > 0)
        {
            _deleted.Add(deleted, new KeyValuePair<string, object?>("housekeeping.rule", rule));
        }
    }

    private sealed record ErasedAccount(string Id, string Username, string Email, string UsernameKey, string EmailKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Housekeeping deleted {Tokens} expired links, {CodeTries} stale code tries, {Mails} old mails, {SignInFailures} stale sign-in failures, {PendingAccounts} never-activated accounts, {Sessions} expired sessions and {RefreshTokens} expired refresh tokens.")]
    private static partial void LogRun(ILogger logger, long tokens, long codeTries, long mails, long signInFailures, long pendingAccounts, long sessions, long refreshTokens);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Housekeeping skipped: another instance is running it.")]
    private static partial void LogSkipped(ILogger logger);
}
