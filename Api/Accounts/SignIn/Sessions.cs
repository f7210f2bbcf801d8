using System.Diagnostics.Metrics;
using System.Security.Claims;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>What a sign-in or a refresh hands out: an access token for the session and the refresh token that continues it.</summary>
/// <param name="RefreshToken">256 random bits as 43 base64url characters; only its SHA-256 is stored.</param>
public sealed record SessionTokens(string AccessToken, TimeSpan AccessTokenLifetime, string RefreshToken, TimeSpan RefreshTokenLifetime);

/// <summary>Why a refresh token was refused; every reason gets the same 401.</summary>
public enum RefreshRefusal
{
    /// <summary>No session has it: never issued, its session ended, or deleted after it expired.</summary>
    Unknown,

    /// <summary>It is past its lifetime.</summary>
    Expired,

    /// <summary>
    /// Retired by a refresh within <see cref="Sessions.ReuseGrace"/> of this one: two refreshes raced
    /// with the same token (two tabs, a retry after a lost answer). The session stands.
    /// </summary>
    Raced,

    /// <summary>Retired longer ago than the grace: someone else holds a copy. The session was revoked.</summary>
    Reused,
}

/// <summary>
/// Sessions (the design's "Sessions"): a sign-in starts one, whose id its access tokens carry
/// (<see cref="SessionIdClaim"/>), so ending it ends them at once; refresh tokens rotate on every
/// use, and a retired one presented again revokes the session (reuse detection, OAuth 2.0
/// Security BCP 4.14.2). Ending a session deletes its rows: nothing of it is kept.
/// </summary>
public sealed partial class Sessions
{
    /// <summary>The access token's claim holding its session's id.</summary>
    public const string SessionIdClaim = "sid";

    public const string MeterName = "Accounts.Sessions";

    /// <summary>
    /// How long after a refresh the token it retired is still taken for a race rather than a theft:
    /// 10 seconds, as Supabase Auth's default reuse interval. Long enough for two tabs refreshing at
    /// once, or a client resending a refresh whose answer was lost (refused, but raising no alarm);
    /// short enough that a token copied and replayed later still revokes the session. Within it the late caller
    /// gets the same 401 and the session stands; a client that shares its store or its cookies with
    /// the winner then finds the new pair there and tries again (the typed client and the demo do).
    /// </summary>
    public static readonly TimeSpan ReuseGrace = TimeSpan.FromSeconds(10);

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly IOptions<LoginOptions> _options;
    private readonly IOptionsMonitor<BearerTokenOptions> _bearer;
    private readonly ILogger<Sessions> _logger;
    private readonly Counter<long> _refreshes;

    public Sessions(Database database, TimeProvider time, IOptions<LoginOptions> options, IOptionsMonitor<BearerTokenOptions> bearer, ILogger<Sessions> logger, IMeterFactory meters)
    {
        (_database, _time, _options, _bearer, _logger) = (database, time, options, bearer, logger);
        _refreshes = meters.Create(MeterName).CreateCounter<long>(
            "accounts.sessions.refreshes", "{refresh}", "Refresh-token uses, by outcome (rotated, unknown, expired, raced, reused).");
    }

    /// <summary>
    /// Starts a session for <paramref name="user"/> (signed in just now) and returns its first
    /// tokens; null when the account changed since it was read (a new password, an erasure, its
    /// security stamp moved meanwhile), so a sign-in that checked the old password cannot outlive
    /// the change that ended every session.
    /// </summary>
    public async Task<SessionTokens?> StartAsync(User user, CancellationToken cancellationToken)
    {
        var (now, settings) = (_time.GetUtcNow(), _options.Value);
        var id = Guid.CreateVersion7(now);
        var refreshToken = await _database.WriteAsync(WriteNeeds.KeysAndLocks,
            session => session.Sessions.StartAsync(id, user, now, settings.RefreshTokenLifetime), cancellationToken);
        return refreshToken is null ? null : Tokens(user, id, refreshToken, now);
    }

    /// <summary>
    /// Rotates <paramref name="refreshToken"/>: the new pair (and no refusal), or why not. One write decides, so of
    /// two refreshes with the same token exactly one rotates it (on PostgreSQL the second's
    /// <c>UPDATE … WHERE retired_at IS NULL</c> waits for the first and then finds nothing).
    /// </summary>
    public async Task<(SessionTokens? Tokens, RefreshRefusal? Refusal)> RefreshAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        if (!AccountTokens.TryHash(refreshToken, out var hash))
        {
            return Refused(RefreshRefusal.Unknown);
        }

        // A read first: a token no session has (a guess, a flood of them) never takes a place in the write queue.
        if (await _database.ReadAsync(session => session.Sessions.FindTokenAsync(hash), cancellationToken) is null)
        {
            return Refused(RefreshRefusal.Unknown);
        }

        var (now, settings) = (_time.GetUtcNow(), _options.Value);
        var (user, sessionId, next, refusal) = await _database.WriteAsync(WriteNeeds.KeysAndLocks, async Task<(User? User, Guid SessionId, string? Next, RefreshRefusal? Refusal)> (session) =>
        {
            var sessions = session.Sessions;
            if (await sessions.FindTokenAsync(hash) is not { } token || token.User is not { Status: AccountStatus.Active } owner)
            {
                return (null, Guid.Empty, null, RefreshRefusal.Unknown);
            }

            if (token.RetiredAt is { } retired)
            {
                if (now - retired <= ReuseGrace)
                {
                    return (null, token.SessionId, null, RefreshRefusal.Raced);
                }

                await sessions.EndAsync(token.SessionId);
                return (null, token.SessionId, null, RefreshRefusal.Reused);
            }

            if (token.ExpiresAt <= now)
            {
                await sessions.EndAsync(token.SessionId);
                return (null, token.SessionId, null, RefreshRefusal.Expired);
            }

            // Null when a refresh with the same token committed since the read above (PostgreSQL).
            var rotated = await sessions.RotateAsync(hash, token.SessionId, now, settings.RefreshTokenLifetime);
            return rotated is null
                ? (null, token.SessionId, null, RefreshRefusal.Raced)
                : (owner, token.SessionId, rotated, null);
        }, cancellationToken);

        if (refusal == RefreshRefusal.Reused)
        {
            LogReuse(_logger, sessionId);
        }

        if (refusal is not null || user is null || next is null)
        {
            return Refused(refusal ?? RefreshRefusal.Unknown);
        }

        _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", "rotated"));
        return (Tokens(user, sessionId, next, now), null);
    }

    /// <summary>The session an access token carries, or null when it carries none (a token from before sessions).</summary>
    public static Guid? SessionOf(ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(SessionIdClaim), out var id) ? id : null;

    private (SessionTokens?, RefreshRefusal?) Refused(RefreshRefusal refusal)
    {
        _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", refusal.ToString().ToLowerInvariant()));
        return (null, refusal);
    }

    /// <summary>An access token from ASP.NET Core's bearer-token scheme (Data Protection): the account's id, name, security stamp and the session's id.</summary>
    private SessionTokens Tokens(User user, Guid sessionId, string refreshToken, DateTimeOffset now)
    {
        var options = _bearer.Get(BearerTokenDefaults.AuthenticationScheme);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
                new Claim(ClaimTypes.Name, user.Username),
                new Claim(LoginApi.SecurityStampClaim, user.SecurityStamp),
                new Claim(SessionIdClaim, sessionId.ToString()),
            ],
            BearerTokenDefaults.AuthenticationScheme);
        var properties = new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now + options.BearerTokenExpiration };
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), properties, BearerTokenDefaults.AuthenticationScheme);
        return new SessionTokens(options.BearerTokenProtector.Protect(ticket), options.BearerTokenExpiration, refreshToken, _options.Value.RefreshTokenLifetime);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A retired refresh token of session {SessionId} was presented again: the session is revoked (a copy of the token is in other hands).")]
    private static partial void LogReuse(ILogger logger, Guid sessionId);
}

/// <summary>A refresh token's row, with its session's account.</summary>
public sealed class RefreshTokenState
{
    public Guid SessionId { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? RetiredAt { get; init; }

    /// <summary>The session's account; null when it is gone.</summary>
    public User? User { get; init; }
}

/// <summary>The <c>sessions</c> and <c>refresh_tokens</c> tables, over one session (<c>session.Sessions</c>).</summary>
public sealed class SessionStore(DbSession session)
{
    /// <summary>
    /// Inserts the session and its first refresh token while <paramref name="user"/> is still
    /// active with the security stamp it was read with; returns the token (stored nowhere), or
    /// null when the account changed or went. The account's row is locked first (PostgreSQL), so a
    /// password change or an erasure either commits before (and this finds the new stamp or no
    /// row) or waits for this session and then ends it with the others.
    /// </summary>
    public async Task<string?> StartAsync(Guid id, User user, DateTimeOffset now, TimeSpan lifetime)
    {
        var unchanged = $"SELECT 1 FROM users WHERE id = @UserId AND security_stamp = @Stamp AND status = 'active'{session.ForUpdate};";
        const string insert = """
            INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (@Id, @UserId, @Now, @ExpiresAt);
            INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (@Hash, @Id, @Now, @ExpiresAt);
            """;
        if (await session.ScalarAsync<int?>(unchanged, new { UserId = user.Id, Stamp = user.SecurityStamp }) is null)
        {
            return null;
        }

        var (token, hash) = AccountTokens.Create();
        await session.ExecuteAsync(insert, new { Id = id, UserId = user.Id, Now = now, ExpiresAt = now + lifetime, Hash = hash });
        return token;
    }

    /// <summary>The token and its session's account, or null when no session has it.</summary>
    public async Task<RefreshTokenState?> FindTokenAsync(byte[] hash)
    {
        const string sql = """
            SELECT t.session_id AS SessionId, t.expires_at AS ExpiresAt, t.retired_at AS RetiredAt,
                   u.id AS UserId, u.username AS Username, u.status AS Status, u.security_stamp AS SecurityStamp
            FROM refresh_tokens t
            JOIN sessions s ON s.id = t.session_id
            LEFT JOIN users u ON u.id = s.user_id
            WHERE t.token_hash = @Hash;
            """;
        var row = await session.QuerySingleOrDefaultAsync<TokenRow>(sql, new { Hash = hash });
        return row is null
            ? null
            : new RefreshTokenState
            {
                SessionId = row.SessionId,
                ExpiresAt = row.ExpiresAt,
                RetiredAt = row.RetiredAt,
                User = row.UserId is { } userId
                    ? new User { Id = Guid.Parse(userId), Username = row.Username!, Status = row.Status!, SecurityStamp = row.SecurityStamp! }
                    : null,
            };
    }

    /// <summary>
    /// Retires <paramref name="hash"/> and issues the session's next token, living
    /// <paramref name="lifetime"/> from now as the session then does; null when the token was
    /// retired meanwhile (a refresh with it committed first).
    /// </summary>
    public async Task<string?> RotateAsync(byte[] hash, Guid sessionId, DateTimeOffset now, TimeSpan lifetime)
    {
        const string retire = "UPDATE refresh_tokens SET retired_at = @Now WHERE token_hash = @Hash AND retired_at IS NULL;";
        const string issue = """
            INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (@Hash, @SessionId, @Now, @ExpiresAt);
            UPDATE sessions SET expires_at = @ExpiresAt WHERE id = @SessionId;
            """;
        if (await session.ExecuteAsync(retire, new { Hash = hash, Now = now }) != 1)
        {
            return null;
        }

        var (token, next) = AccountTokens.Create();
        await session.ExecuteAsync(issue, new { Hash = next, SessionId = sessionId, Now = now, ExpiresAt = now + lifetime });
        return token;
    }

    /// <summary>The session that <paramref name="hash"/> belongs to, or null.</summary>
    public async Task<Guid?> SessionOfTokenAsync(byte[] hash) =>
        await session.QuerySingleOrDefaultAsync<string>("SELECT session_id FROM refresh_tokens WHERE token_hash = @Hash;", new { Hash = hash }) is { } id
            ? Guid.Parse(id)
            : null;

    /// <summary>Ends one session of <paramref name="userId"/>: deletes it and its refresh tokens. Returns whether it stood.</summary>
    public async Task<bool> EndAsync(Guid sessionId, Guid? userId = null)
    {
        // Two texts rather than "@UserId IS NULL OR …": PostgreSQL cannot type a parameter that is only ever NULL.
        var sql = userId is null
            ? "DELETE FROM sessions WHERE id = @Id;"
            : "DELETE FROM sessions WHERE id = @Id AND user_id = @UserId;";
        if (await session.ExecuteAsync(sql, new { Id = sessionId, UserId = userId }) != 1)
        {
            return false;
        }

        await session.ExecuteAsync("DELETE FROM refresh_tokens WHERE session_id = @Id;", new { Id = sessionId });
        return true;
    }

    /// <summary>Ends every session of the account (logout everywhere, a new password, an erasure); returns how many stood.</summary>
    public async Task<int> EndAllAsync(Guid userId)
    {
        const string tokens = "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = @UserId);";
        await session.ExecuteAsync(tokens, new { UserId = userId });
        return await session.ExecuteAsync("DELETE FROM sessions WHERE user_id = @UserId;", new { UserId = userId });
    }

    private sealed class TokenRow
    {
        public Guid SessionId { get; init; }

        public DateTimeOffset ExpiresAt { get; init; }

        public DateTimeOffset? RetiredAt { get; init; }

        /// <summary>Text, not a Guid: null when the account is gone (a LEFT JOIN).</summary>
        public string? UserId { get; init; }

        public string? Username { get; init; }

        public string? Status { get; init; }

        public string? SecurityStamp { get; init; }
    }
}
