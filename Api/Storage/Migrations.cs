using Dapper;
using Microsoft.Data.Sqlite;

namespace Accounts.Api.Storage;

/// <summary>
/// Versioned schema migrations. Each script runs once, in its own transaction, and moves
/// <c>PRAGMA user_version</c> to its number; running them again does nothing. Append new
/// migrations at the end; never edit one that has shipped.
/// </summary>
public static class Migrations
{
    private static readonly string[] Scripts =
    [
        // 1: users, their one-time tokens, and the email outbox.
        """
        CREATE TABLE users (
            id            TEXT    NOT NULL PRIMARY KEY,
            username      TEXT    NOT NULL,
            username_key  TEXT    NOT NULL,
            email         TEXT    NOT NULL,
            email_key     TEXT    NOT NULL,
            password_hash TEXT    NOT NULL,
            birthday      TEXT    NULL,
            language      TEXT    NOT NULL,
            status        TEXT    NOT NULL CHECK (status IN ('pending_activation', 'active')),
            created_at    INTEGER NOT NULL,
            activated_at  INTEGER NULL
        ) STRICT;
        CREATE UNIQUE INDEX ux_users_username_key ON users (username_key);
        CREATE UNIQUE INDEX ux_users_email_key ON users (email_key);

        CREATE TABLE account_tokens (
            token_hash  BLOB    NOT NULL PRIMARY KEY,
            user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            purpose     TEXT    NOT NULL,
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL,
            consumed_at INTEGER NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX ix_account_tokens_user ON account_tokens (user_id, purpose);

        CREATE TABLE outbox (
            id              INTEGER NOT NULL PRIMARY KEY,
            kind            TEXT    NOT NULL,
            recipients      TEXT    NOT NULL,
            user_id         TEXT    NULL,
            language        TEXT    NOT NULL,
            status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'skipped', 'dead')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            created_at      INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            lease_until     INTEGER NULL,
            sent_at         INTEGER NULL,
            last_error      TEXT    NULL
        ) STRICT;
        CREATE INDEX ix_outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX ix_outbox_user ON outbox (user_id, created_at);
        """,

        // 2: a per-account stamp that changes with the password, ending every earlier sign-in.
        """
        ALTER TABLE users ADD COLUMN security_stamp TEXT NOT NULL DEFAULT '';
        """,

        // 3: failed sign-ins per login (username or email, known or not), to slow down guessing.
        """
        CREATE TABLE login_failures (
            login_key       TEXT    NOT NULL PRIMARY KEY,
            failures        INTEGER NOT NULL,
            last_failure_at INTEGER NOT NULL,
            locked_until    INTEGER NULL
        ) STRICT, WITHOUT ROWID;
        """,
    ];

    /// <summary>The schema version this build expects.</summary>
    public static int LatestVersion => Scripts.Length;

    /// <summary>Creates the database file if needed, turns on WAL and applies pending migrations.</summary>
    public static async Task<int> ApplyAsync(Database database, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // WAL is a property of the file: set once, it stays.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        var applied = 0;
        while (true)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var version = await connection.ExecuteScalarAsync<int>("PRAGMA user_version;", transaction: transaction);
            if (version >= Scripts.Length)
            {
                return applied;
            }

            await connection.ExecuteAsync(Scripts[version], transaction: transaction);
            // PRAGMA takes no parameters; the value is our own integer.
            await connection.ExecuteAsync($"PRAGMA user_version = {version + 1};", transaction: transaction);
            await transaction.CommitAsync(cancellationToken);
            applied++;
        }
    }
}
