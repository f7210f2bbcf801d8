using Accounts.Api.Email;
using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>The <c>users</c> table, over one session (<c>session.Users</c>).</summary>
public sealed class UserStore(DbSession session)
{
    private const string Columns = "id, username, email, password_hash, birthday, language, status, created_at, activated_at, security_stamp";
    /// <summary><see cref="Columns"/> of the alias <c>u</c>, for a join.</summary>
    private static readonly string QualifiedColumns = string.Join(", ", Columns.Split(", ").Select(column => "u." + column));

    public Task<User?> FindAsync(Guid id) =>
        session.QuerySingleOrDefaultAsync<User>($"SELECT {Columns} FROM users WHERE id = @Id;", new { Id = id });

    /// <summary>
    /// The account while <paramref name="sessionId"/> is one of its sessions: what every signed-in
    /// request reads, one indexed join on two primary keys, kept prepared and read column by column.
    /// </summary>
    public Task<User?> FindInSessionAsync(Guid id, Guid sessionId) =>
        session.QueryPreparedFirstOrDefaultAsync(
            $"SELECT {QualifiedColumns} FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = @Id AND s.id = @SessionId;",
            row => new User
            {
                Id = row.Id(0),
                Username = row.Text(1),
                Email = row.Text(2),
                PasswordHash = row.Text(3),
                Birthday = row.NullableDate(4),
                Language = row.Text(5),
                Status = row.Text(6),
                CreatedAt = row.Time(7),
                ActivatedAt = row.NullableTime(8),
                SecurityStamp = row.Text(9),
            },
            ("@Id", id),
            ("@SessionId", sessionId));

    public Task<User?> FindByEmailAsync(string email) =>
        session.QuerySingleOrDefaultAsync<User>(
            $"SELECT {Columns} FROM users WHERE email_key = @EmailKey;", new { EmailKey = Normalization.Key(email) });

    /// <summary>The account whose username or email is <paramref name="login"/>, without regard to case.</summary>
    public Task<User?> FindByLoginAsync(string login) =>
        session.QuerySingleOrDefaultAsync<User>(
            $"SELECT {Columns} FROM users WHERE username_key = @Key OR email_key = @Key LIMIT 1;", new { Key = Normalization.Key(login) });

    /// <summary>Holds the account's row until the write commits (see <see cref="DbSession.ForUpdate"/>).</summary>
    public Task LockAsync(Guid id) =>
        session.ScalarAsync<int>($"SELECT 1 FROM users WHERE id = @Id{session.ForUpdate};", new { Id = id });

    public Task<bool> UsernameExistsAsync(string username) =>
        session.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM users WHERE username_key = @UsernameKey);", new { UsernameKey = Normalization.Key(username) });

    public Task InsertAsync(User user)
    {
        const string sql = """
            INSERT INTO users (id, username, username_key, email, email_key, password_hash, birthday, language, status, created_at, security_stamp)
            VALUES (@Id, @Username, @UsernameKey, @Email, @EmailKey, @PasswordHash, @Birthday, @Language, @Status, @CreatedAt, @SecurityStamp);
            """;
        return session.ExecuteAsync(sql, new
        {
            user.Id,
            user.Username,
            UsernameKey = Normalization.Key(user.Username),
            user.Email,
            EmailKey = Normalization.Key(user.Email),
            user.PasswordHash,
            user.Birthday,
            user.Language,
            user.Status,
            user.CreatedAt,
            user.SecurityStamp,
        });
    }

    /// <summary>Sets a new password hash and, when <paramref name="newSecurityStamp"/> is given, ends every earlier sign-in.</summary>
    public async Task<bool> SetPasswordHashAsync(Guid id, string passwordHash, string? newSecurityStamp)
    {
        const string sql = """
            UPDATE users SET password_hash = @PasswordHash, security_stamp = COALESCE(@SecurityStamp, security_stamp)
            WHERE id = @Id;
            """;
        return await session.ExecuteAsync(sql, new { Id = id, PasswordHash = passwordHash, SecurityStamp = newSecurityStamp }) == 1;
    }

    /// <summary>
    /// A new password and security stamp, only while the stamp is still <paramref name="currentStamp"/>
    /// (the one the caller's token carries); false when a reset or another change came first.
    /// </summary>
    public async Task<bool> ChangePasswordAsync(Guid id, string currentStamp, string passwordHash, string newSecurityStamp)
    {
        const string sql = """
            UPDATE users SET password_hash = @PasswordHash, security_stamp = @SecurityStamp
            WHERE id = @Id AND security_stamp = @CurrentStamp;
            """;
        return await session.ExecuteAsync(sql, new { Id = id, CurrentStamp = currentStamp, PasswordHash = passwordHash, SecurityStamp = newSecurityStamp }) == 1;
    }

    /// <summary>True when an account other than <paramref name="id"/> has <paramref name="email"/> (without regard to case or form).</summary>
    public Task<bool> EmailTakenByOtherAsync(string email, Guid id) =>
        session.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email_key = @EmailKey AND id <> @Id);",
            new { EmailKey = Normalization.Key(email), Id = id });

    /// <summary>Moves the account to a new address; its unique key refuses one another account has.</summary>
    public async Task<bool> ChangeEmailAsync(Guid id, string email) =>
        await session.ExecuteAsync(
            "UPDATE users SET email = @Email, email_key = @EmailKey WHERE id = @Id;",
            new { Id = id, Email = email, EmailKey = Normalization.Key(email) }) == 1;

    /// <summary>
    /// Erases <paramref name="user"/> and everything tied to it (its sessions, its links and codes, its mails, the
    /// failed sign-ins and code tries under its username and address), only while its security
    /// stamp is still the one it was read with; false, and nothing erased, when it was not.
    /// </summary>
    public async Task<bool> EraseAsync(User user)
    {
        if (await session.ExecuteAsync(
                "DELETE FROM users WHERE id = @Id AND security_stamp = @SecurityStamp;", new { user.Id, user.SecurityStamp }) != 1)
        {
            return false;
        }

        var keys = new { user.Id, UsernameKey = Normalization.Key(user.Username), EmailKey = Normalization.Key(user.Email) };
        await session.ExecuteAsync("DELETE FROM account_tokens WHERE user_id = @Id;", keys);
        await session.Sessions.EndAllAsync(user.Id);
        await session.Outbox.DeleteOfErasedAsync([user.Id]);
        await session.ExecuteAsync("DELETE FROM login_failures WHERE login_key IN (@UsernameKey, @EmailKey);", keys);
        await session.ExecuteAsync("DELETE FROM code_failures WHERE email_key = @EmailKey;", keys);
        return true;
    }

    /// <summary>Activates a pending account; false when it was not pending.</summary>
    public async Task<bool> ActivateAsync(Guid id, DateTimeOffset now)
    {
        const string sql = """
            UPDATE users SET status = 'active', activated_at = @Now
            WHERE id = @Id AND status = 'pending_activation';
            """;
        // Kept prepared on the writer's connection: every activation runs it.
        return await session.ExecutePreparedAsync(sql, ("@Now", now), ("@Id", id)) == 1;
    }
}
