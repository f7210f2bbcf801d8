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

/// <summary>
/// The 6-digit code mailed beside a link: made with it, stored only as SHA-256 over the token's
/// hash and the code (so equal codes of two links never hash alike), and tied to the account's
/// address. A code is short, so tries are counted (<see cref="AccountTokenStore.CountCodeAttemptAsync"/>).
/// </summary>
public static class AccountCodes
{
    public const int Length = 6;

    public static string Create() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True when <paramref name="code"/> is six ASCII digits.</summary>
    public static bool IsWellFormed(string? code) => code is { Length: Length } && code.All(char.IsAsciiDigit);

    public static byte[] Hash(byte[] tokenHash, string code) => SHA256.HashData([.. tokenHash, .. System.Text.Encoding.ASCII.GetBytes(code)]);
}

/// <summary>A link's token and its code, as mailed; neither is stored.</summary>
public sealed record IssuedToken(string Token, string Code);

/// <summary>What a token may do; a token of one purpose is never accepted for another.</summary>
public static class TokenPurpose
{
    public const string Activation = "activation";
    public const string PasswordReset = "password_reset";
    public const string EmailChange = "email_change";
}

/// <summary>A token row with its account's status, as needed to decide what a link does.</summary>
public sealed class TokenState
{
    public Guid UserId { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? ConsumedAt { get; init; }

    /// <summary>The account's status; null when the account is gone and its link waits to expire (a never-activated account past its lifetime).</summary>
    public string? UserStatus { get; init; }

    /// <summary>For an email-change link: the address it moves the account to.</summary>
    public string? NewEmail { get; init; }
}

/// <summary>The <c>account_tokens</c> table, over one session (<c>session.Tokens</c>).</summary>
public sealed class AccountTokenStore(DbSession session)
{
    /// <summary>
    /// Makes a new token and code for <paramref name="user"/> and stores their hashes. Every earlier
    /// unused token of the same purpose ends now, so only the newest link and code work, and the
    /// wrong codes counted against the address start again from none.
    /// </summary>
    /// <returns>The raw token and code, for the mail; they are stored nowhere.</returns>
    /// <param name="newEmail">For an email change: the address the link moves the account to, where the mail goes and the code is tied.</param>
    public async Task<IssuedToken> IssueAsync(User user, string purpose, TimeSpan lifetime, DateTimeOffset now, string? newEmail = null)
    {
        const string sql = """
            UPDATE account_tokens SET expires_at = @Now
            WHERE user_id = @UserId AND purpose = @Purpose AND consumed_at IS NULL AND expires_at > @Now;
            INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at, code_hash, new_email, new_email_key)
            VALUES (@Hash, @UserId, @Purpose, @Now, @ExpiresAt, @CodeHash, @NewEmail, @NewEmailKey);
            DELETE FROM code_failures WHERE purpose = @Purpose AND email_key = @EmailKey;
            """;
        var (token, hash) = AccountTokens.Create();
        var code = AccountCodes.Create();
        await session.ExecuteAsync(sql, new
        {
            Hash = hash,
            UserId = user.Id,
            Purpose = purpose,
            Now = now,
            ExpiresAt = now + lifetime,
            CodeHash = AccountCodes.Hash(hash, code),
            NewEmail = newEmail,
            NewEmailKey = newEmail is null ? null : Normalization.Key(newEmail),
            EmailKey = Normalization.Key(newEmail ?? user.Email),
        });
        return new IssuedToken(token, code);
    }

    /// <summary>
    /// The token hash of <paramref name="userId"/>'s newest <paramref name="purpose"/> link when
    /// <paramref name="code"/> is its code (used or expired ones included, for the caller to
    /// decide); null otherwise.
    /// </summary>
    public async Task<byte[]?> FindByCodeAsync(Guid userId, string purpose, string code)
    {
        const string sql = """
            SELECT token_hash AS TokenHash, code_hash AS CodeHash FROM account_tokens
            WHERE user_id = @UserId AND purpose = @Purpose AND code_hash IS NOT NULL
            ORDER BY created_at DESC LIMIT 1;
            """;
        var newest = await session.QuerySingleOrDefaultAsync<CodeRow>(sql, new { UserId = userId, Purpose = purpose });
        return newest is { } row && CryptographicOperations.FixedTimeEquals(row.CodeHash, AccountCodes.Hash(row.TokenHash, code))
            ? row.TokenHash
            : null;
    }

    /// <summary>
    /// The token hash of the newest <paramref name="purpose"/> link to the new address
    /// <paramref name="newEmail"/> (an email change) when <paramref name="code"/> is its code; null otherwise.
    /// </summary>
    public async Task<byte[]?> FindByNewEmailCodeAsync(string newEmail, string purpose, string code)
    {
        const string sql = """
            SELECT token_hash AS TokenHash, code_hash AS CodeHash FROM account_tokens
            WHERE new_email_key = @NewEmailKey AND purpose = @Purpose AND code_hash IS NOT NULL
            ORDER BY created_at DESC LIMIT 1;
            """;
        var newest = await session.QuerySingleOrDefaultAsync<CodeRow>(sql, new { NewEmailKey = Normalization.Key(newEmail), Purpose = purpose });
        return newest is { } row && CryptographicOperations.FixedTimeEquals(row.CodeHash, AccountCodes.Hash(row.TokenHash, code))
            ? row.TokenHash
            : null;
    }

    private sealed class CodeRow
    {
        public byte[] TokenHash { get; init; } = [];

        public byte[] CodeHash { get; init; } = [];
    }

    /// <summary>Counts a try of a <paramref name="purpose"/> code for the address, known or not, in one atomic upsert; returns the tries since its newest code.</summary>
    public Task<long> CountCodeAttemptAsync(string purpose, string email, DateTimeOffset now)
    {
        const string sql = """
            INSERT INTO code_failures (purpose, email_key, failures, last_failure_at) VALUES (@Purpose, @EmailKey, 1, @Now)
            ON CONFLICT (purpose, email_key) DO UPDATE SET failures = code_failures.failures + 1, last_failure_at = @Now
            RETURNING failures;
            """;
        return session.ScalarAsync<long>(sql, new { Purpose = purpose, EmailKey = Normalization.Key(email), Now = now });
    }

    /// <summary>Forgets the tries counted against the address (a right code was given).</summary>
    public Task<int> ClearCodeAttemptsAsync(string purpose, string email) =>
        session.ExecuteAsync(
            "DELETE FROM code_failures WHERE purpose = @Purpose AND email_key = @EmailKey;",
            new { Purpose = purpose, EmailKey = Normalization.Key(email) });

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
            SELECT t.user_id, t.expires_at, t.consumed_at, u.status, t.new_email
            FROM account_tokens t LEFT JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = @Hash AND t.purpose = @Purpose;
            """;
        return session.QueryPreparedFirstOrDefaultAsync(
            sql,
            row => new TokenState
            {
                UserId = row.Id(0),
                ExpiresAt = row.Time(1),
                ConsumedAt = row.NullableTime(2),
                UserStatus = row.NullableText(3),
                NewEmail = row.NullableText(4),
            },
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
