using System.Buffers.Text;
using System.Security.Cryptography;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>
/// One-time tokens: 32 random bytes, sent as 43 base64url characters, stored only as their
/// SHA-256. A stolen database yields no usable link.
/// </summary>
public static class AccountTokens
{
    public const int ByteLength = 32;
    public const int TextLength = 43;

    /// <summary>A new token and the hash to store for it.</summary>
    public static (string Token, byte[] Hash) Create()
    {
        Span<byte> bytes = stackalloc byte[ByteLength];
        RandomNumberGenerator.Fill(bytes);
        return (Base64Url.EncodeToString(bytes), SHA256.HashData(bytes));
    }

    /// <summary>The stored hash of a token as received, or false when it is not a well-formed token.</summary>
    public static bool TryHash(string? token, out byte[] hash)
    {
        hash = [];
        if (token is null || token.Length != TextLength)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[ByteLength + 2];
        if (!Base64Url.IsValid(token) || Base64Url.DecodeFromChars(token, bytes) != ByteLength)
        {
            return false;
        }

        hash = SHA256.HashData(bytes[..ByteLength]);
        return true;
    }
}

/// <summary>What a token may do; a token of one purpose is never accepted for another.</summary>
public static class TokenPurpose
{
    public const string Activation = "activation";
    public const string PasswordReset = "password_reset";
}

/// <summary>A token row with its account's status, as needed to decide what a link does.</summary>
public sealed class TokenState
{
    public Guid UserId { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? ConsumedAt { get; init; }

    public string UserStatus { get; init; } = "";
}

/// <summary>The <c>account_tokens</c> table, over one session (<c>session.Tokens</c>).</summary>
public sealed class AccountTokenStore(DbSession session)
{
    /// <summary>
    /// Makes a new token for <paramref name="userId"/> and stores its hash. Every earlier unused
    /// token of the same purpose ends now, so only the newest link works.
    /// </summary>
    /// <returns>The raw token, for the mail; it is stored nowhere.</returns>
    public async Task<string> IssueAsync(Guid userId, string purpose, TimeSpan lifetime, DateTimeOffset now)
    {
        const string sql = """
            UPDATE account_tokens SET expires_at = @Now
            WHERE user_id = @UserId AND purpose = @Purpose AND consumed_at IS NULL AND expires_at > @Now;
            INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at)
            VALUES (@Hash, @UserId, @Purpose, @Now, @ExpiresAt);
            """;
        var (token, hash) = AccountTokens.Create();
        await session.ExecuteAsync(sql, new { Hash = hash, UserId = userId, Purpose = purpose, Now = now, ExpiresAt = now + lifetime });
        return token;
    }

    /// <summary>Ends every unused token of <paramref name="purpose"/> for the user (after a password change, say).</summary>
    public Task<int> EndAllAsync(Guid userId, string purpose, DateTimeOffset now)
    {
        const string sql = """
            UPDATE account_tokens SET consumed_at = @Now
            WHERE user_id = @UserId AND purpose = @Purpose AND consumed_at IS NULL;
            """;
        return session.ExecuteAsync(sql, new { UserId = userId, Purpose = purpose, Now = now });
    }

    /// <summary>The token and its account's status. Kept prepared: this runs for every link followed, known or not.</summary>
    public Task<TokenState?> FindAsync(byte[] hash, string purpose)
    {
        const string sql = """
            SELECT t.user_id, t.expires_at, t.consumed_at, u.status
            FROM account_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = @Hash AND t.purpose = @Purpose;
            """;
        return session.QueryPreparedFirstOrDefaultAsync(
            sql,
            row => new TokenState { UserId = row.Id(0), ExpiresAt = row.Time(1), ConsumedAt = row.NullableTime(2), UserStatus = row.Text(3) },
            ("@Hash", hash),
            ("@Purpose", purpose));
    }

    /// <summary>Marks an unexpired, unused token as used; false when another request got there first or it expired.</summary>
    public async Task<bool> ConsumeAsync(byte[] hash, DateTimeOffset now)
    {
        const string sql = """
            UPDATE account_tokens SET consumed_at = @Now
            WHERE token_hash = @Hash AND consumed_at IS NULL AND expires_at > @Now;
            """;
        return await session.ExecutePreparedAsync(sql, ("@Now", now), ("@Hash", hash)) == 1;
    }
}
