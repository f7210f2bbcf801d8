namespace Accounts.Api.Storage;

/// <summary>
/// Versioned schema migrations, one list per provider. Each script runs once and records its
/// number (SQLite in <c>PRAGMA user_version</c>, PostgreSQL in <c>schema_version</c>); running
/// them again does nothing. Append new migrations at the end of both lists; never edit one that
/// has shipped.
/// </summary>
public static class Migrations
{
    /// <summary>SQLite: STRICT tables; ids, times and dates as TEXT and INTEGER (see <see cref="TypeHandlers"/>).</summary>
    public static readonly IReadOnlyList<string> Sqlite =
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

        // 4: which process holds a lease, so an instance gives back only its own claims.
        """
        ALTER TABLE outbox ADD COLUMN lease_owner TEXT NULL;
        """,

        // 5: one row that Database.ProbeWritesAsync rewrites while writes fail, to learn when they succeed again.
        """
        CREATE TABLE storage_probe (
            id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            probes INTEGER NOT NULL
        ) STRICT;
        INSERT INTO storage_probe (id, probes) VALUES (1, 0);
        """,

        // 6: a 6-digit code beside each link (only its hash, salted with the token's), and wrong
        // codes counted per purpose and address, known or not, until a new code is issued.
        """
        ALTER TABLE account_tokens ADD COLUMN code_hash BLOB NULL;
        CREATE TABLE code_failures (
            purpose   TEXT    NOT NULL,
            email_key TEXT    NOT NULL,
            failures  INTEGER NOT NULL,
            PRIMARY KEY (purpose, email_key)
        ) STRICT, WITHOUT ROWID;
        """,

        // 7: the address an email-change link would move the account to (and its key, to find a typed code by it).
        """
        ALTER TABLE account_tokens ADD COLUMN new_email TEXT NULL;
        ALTER TABLE account_tokens ADD COLUMN new_email_key TEXT NULL;
        CREATE INDEX ix_account_tokens_new_email ON account_tokens (new_email_key, purpose) WHERE new_email_key IS NOT NULL;
        """,

        // 8: housekeeping finds what it deletes by index: expired tokens, old sent and skipped mails,
        // stale sign-in failures and code tries (which now record when), and never-activated accounts.
        """
        ALTER TABLE code_failures ADD COLUMN last_failure_at INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX ix_code_failures_last ON code_failures (last_failure_at);
        CREATE INDEX ix_account_tokens_expires ON account_tokens (expires_at);
        CREATE INDEX ix_outbox_done ON outbox (created_at) WHERE status IN ('sent', 'skipped');
        CREATE INDEX ix_login_failures_last ON login_failures (last_failure_at);
        CREATE INDEX ix_users_pending ON users (created_at) WHERE status = 'pending_activation';
        """,

        // 9: the W3C traceparent of the request that queued a message, so its send span links to that trace.
        """
        ALTER TABLE outbox ADD COLUMN traceparent TEXT NULL;
        """,

        // 10: webhooks through the outbox: the row's transport, the event's body and its webhook-id,
        // and the index that keeps one account's events to one endpoint in order.
        """
        ALTER TABLE outbox ADD COLUMN transport TEXT NOT NULL DEFAULT 'email' CHECK (transport IN ('email', 'webhook'));
        ALTER TABLE outbox ADD COLUMN payload TEXT NULL;
        ALTER TABLE outbox ADD COLUMN webhook_id TEXT NULL;
        CREATE INDEX ix_outbox_webhook_order ON outbox (user_id, recipients, id) WHERE transport = 'webhook' AND status = 'pending';
        """,

        // 11: sessions: one per sign-in, living while its newest refresh token does (expires_at), and
        // every refresh token it has had (only their hashes), the retired ones kept until they expire
        // so that one presented again is known for what it is. Ending a session deletes its rows.
        """
        CREATE TABLE sessions (
            id         TEXT    NOT NULL PRIMARY KEY,
            user_id    TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX ix_sessions_user ON sessions (user_id);
        CREATE INDEX ix_sessions_expires ON sessions (expires_at);

        CREATE TABLE refresh_tokens (
            token_hash BLOB    NOT NULL PRIMARY KEY,
            session_id TEXT    NOT NULL,
            issued_at  INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            retired_at INTEGER NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);
        CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at);
        """,
    ];

    /// <summary>
    /// PostgreSQL: the schema of the SQLite scripts above in one step, column for column and in
    /// the same representations (ids and dates as text, times as Unix milliseconds), so both
    /// providers share one set of type handlers and one SQL text wherever the SQL is portable.
    /// </summary>
    public static readonly IReadOnlyList<string> Postgres =
    [
        // 1: users, tokens, the outbox (with its lease owner) and failed sign-ins.
        """
        CREATE TABLE users (
            id             text   NOT NULL PRIMARY KEY,
            username       text   NOT NULL,
            username_key   text   NOT NULL,
            email          text   NOT NULL,
            email_key      text   NOT NULL,
            password_hash  text   NOT NULL,
            birthday       text   NULL,
            language       text   NOT NULL,
            status         text   NOT NULL CHECK (status IN ('pending_activation', 'active')),
            created_at     bigint NOT NULL,
            activated_at   bigint NULL,
            security_stamp text   NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX ux_users_username_key ON users (username_key);
        CREATE UNIQUE INDEX ux_users_email_key ON users (email_key);

        CREATE TABLE account_tokens (
            token_hash  bytea  NOT NULL PRIMARY KEY,
            user_id     text   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            purpose     text   NOT NULL,
            created_at  bigint NOT NULL,
            expires_at  bigint NOT NULL,
            consumed_at bigint NULL
        );
        CREATE INDEX ix_account_tokens_user ON account_tokens (user_id, purpose);

        CREATE TABLE outbox (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind            text   NOT NULL,
            recipients      text   NOT NULL,
            user_id         text   NULL,
            language        text   NOT NULL,
            status          text   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'skipped', 'dead')),
            attempts        bigint NOT NULL DEFAULT 0,
            created_at      bigint NOT NULL,
            next_attempt_at bigint NOT NULL,
            lease_until     bigint NULL,
            sent_at         bigint NULL,
            last_error      text   NULL,
            lease_owner     text   NULL
        );
        CREATE INDEX ix_outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
        CREATE INDEX ix_outbox_user ON outbox (user_id, created_at);

        CREATE TABLE login_failures (
            login_key       text   NOT NULL PRIMARY KEY,
            failures        bigint NOT NULL,
            last_failure_at bigint NOT NULL,
            locked_until    bigint NULL
        );
        """,

        // 2: one row that Database.ProbeWritesAsync rewrites while writes fail, to learn when they succeed again.
        """
        CREATE TABLE storage_probe (
            id     integer NOT NULL PRIMARY KEY CHECK (id = 1),
            probes bigint  NOT NULL
        );
        INSERT INTO storage_probe (id, probes) VALUES (1, 0);
        """,

        // 3: codes beside links, and wrong codes counted (SQLite's 6).
        """
        ALTER TABLE account_tokens ADD COLUMN code_hash bytea NULL;
        CREATE TABLE code_failures (
            purpose   text   NOT NULL,
            email_key text   NOT NULL,
            failures  bigint NOT NULL,
            PRIMARY KEY (purpose, email_key)
        );
        """,

        // 4: the address of an email-change link (SQLite's 7).
        """
        ALTER TABLE account_tokens ADD COLUMN new_email text NULL;
        ALTER TABLE account_tokens ADD COLUMN new_email_key text NULL;
        CREATE INDEX ix_account_tokens_new_email ON account_tokens (new_email_key, purpose) WHERE new_email_key IS NOT NULL;
        """,

        // 5: the housekeeping indexes, and when a code was last tried (SQLite's 8). The tokens'
        // cascade goes, as SQLite (foreign keys off) never had it: an erased account's tokens are
        // deleted with it, a purged never-activated account's stay until they expire, so its link
        // answers "expired" rather than "not valid".
        """
        ALTER TABLE account_tokens DROP CONSTRAINT IF EXISTS account_tokens_user_id_fkey;
        ALTER TABLE code_failures ADD COLUMN last_failure_at bigint NOT NULL DEFAULT 0;
        CREATE INDEX ix_code_failures_last ON code_failures (last_failure_at);
        CREATE INDEX ix_account_tokens_expires ON account_tokens (expires_at);
        CREATE INDEX ix_outbox_done ON outbox (created_at) WHERE status IN ('sent', 'skipped');
        CREATE INDEX ix_login_failures_last ON login_failures (last_failure_at);
        CREATE INDEX ix_users_pending ON users (created_at) WHERE status = 'pending_activation';
        """,

        // 6: the traceparent of the request that queued a message (SQLite's 9).
        """
        ALTER TABLE outbox ADD COLUMN traceparent text NULL;
        """,

        // 7: webhooks through the outbox (SQLite's 10).
        """
        ALTER TABLE outbox ADD COLUMN transport text NOT NULL DEFAULT 'email' CHECK (transport IN ('email', 'webhook'));
        ALTER TABLE outbox ADD COLUMN payload text NULL;
        ALTER TABLE outbox ADD COLUMN webhook_id text NULL;
        CREATE INDEX ix_outbox_webhook_order ON outbox (user_id, recipients, id) WHERE transport = 'webhook' AND status = 'pending';
        """,

        // 8: sessions and their refresh tokens (SQLite's 11).
        """
        CREATE TABLE sessions (
            id         text   NOT NULL PRIMARY KEY,
            user_id    text   NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL
        );
        CREATE INDEX ix_sessions_user ON sessions (user_id);
        CREATE INDEX ix_sessions_expires ON sessions (expires_at);

        CREATE TABLE refresh_tokens (
            token_hash bytea  NOT NULL PRIMARY KEY,
            session_id text   NOT NULL,
            issued_at  bigint NOT NULL,
            expires_at bigint NOT NULL,
            retired_at bigint NULL
        );
        CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);
        CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at);
        """,
    ];

    /// <summary>Applies the pending migrations of the database's provider; returns how many ran.</summary>
    public static Task<int> ApplyAsync(Database database, CancellationToken cancellationToken = default) =>
        database.MigrateAsync(cancellationToken);
}
