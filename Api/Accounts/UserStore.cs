using System.Data;
using Accounts.Api.Storage;
using Dapper;

namespace Accounts.Api.Accounts;

/// <summary>The <c>users</c> table.</summary>
public sealed class UserStore(Database database)
{
    private const string Columns = "id, username, email, password_hash, birthday, language, status, created_at, activated_at, security_stamp";

    public async Task<User?> FindAsync(Guid id, CancellationToken cancellationToken = default)
    {
        const string sql = $"SELECT {Columns} FROM users WHERE id = @Id;";
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<User>(sql, new { Id = id });
    }

    public async Task<User?> FindByEmailAsync(string email, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await FindByEmailAsync(connection, null, email);
    }

    /// <summary>The account whose username or email is <paramref name="login"/>, without regard to case.</summary>
    public async Task<User?> FindByLoginAsync(string login, CancellationToken cancellationToken = default)
    {
        const string sql = $"SELECT {Columns} FROM users WHERE username_key = @Key OR email_key = @Key LIMIT 1;";
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<User>(sql, new { Key = Normalization.Key(login) });
    }

    public static Task<User?> FindByEmailAsync(IDbConnection connection, IDbTransaction? transaction, string email)
    {
        const string sql = $"SELECT {Columns} FROM users WHERE email_key = @EmailKey;";
        return connection.QuerySingleOrDefaultAsync<User>(sql, new { EmailKey = Normalization.Key(email) }, transaction);
    }

    /// <summary>Holds the account's row until the transaction ends (see <see cref="SqlDialect.ForUpdate"/>).</summary>
    public static Task LockAsync(IDbConnection connection, IDbTransaction transaction, Guid id) =>
        connection.ExecuteScalarAsync<int>($"SELECT 1 FROM users WHERE id = @Id{connection.ForUpdate()};", new { Id = id }, transaction);

    public static Task<bool> UsernameExistsAsync(IDbConnection connection, IDbTransaction transaction, string username)
    {
        const string sql = "SELECT EXISTS (SELECT 1 FROM users WHERE username_key = @UsernameKey);";
        return connection.ExecuteScalarAsync<bool>(sql, new { UsernameKey = Normalization.Key(username) }, transaction);
    }

    public static Task InsertAsync(IDbConnection connection, IDbTransaction transaction, User user)
    {
        const string sql = """
            INSERT INTO users (id, username, username_key, email, email_key, password_hash, birthday, language, status, created_at, security_stamp)
            VALUES (@Id, @Username, @UsernameKey, @Email, @EmailKey, @PasswordHash, @Birthday, @Language, @Status, @CreatedAt, @SecurityStamp);
            """;
        return connection.ExecuteAsync(sql, new
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
        }, transaction);
    }

    /// <summary>Sets a new password hash and, when <paramref name="newSecurityStamp"/> is given, ends every earlier sign-in.</summary>
    public static async Task<bool> SetPasswordHashAsync(
        IDbConnection connection, IDbTransaction transaction, Guid id, string passwordHash, string? newSecurityStamp)
    {
        const string sql = """
            UPDATE users SET password_hash = @PasswordHash, security_stamp = COALESCE(@SecurityStamp, security_stamp)
            WHERE id = @Id;
            """;
        return await connection.ExecuteAsync(sql, new { Id = id, PasswordHash = passwordHash, SecurityStamp = newSecurityStamp }, transaction) == 1;
    }

    /// <summary>Activates a pending account; false when it was not pending.</summary>
    public static async Task<bool> ActivateAsync(IDbConnection connection, IDbTransaction transaction, Guid id, DateTimeOffset now)
    {
        const string sql = """
            UPDATE users SET status = 'active', activated_at = @Now
            WHERE id = @Id AND status = 'pending_activation';
            """;
        // Prepared once on the writer's connection: every activation runs it.
        var command = connection.Prepared(transaction, sql, ("@Now", now.ToUnixTimeMilliseconds()), ("@Id", id.ToString("D")));
        return await command.ExecuteNonQueryAsync() == 1;
    }
}
