using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>The accounts' tables, as a session exposes them: <c>session.Users</c> and <c>session.Tokens</c>.</summary>
public static class AccountStores
{
    extension(DbSession session)
    {
        /// <summary>The <c>users</c> table in this session.</summary>
        public UserStore Users => new(session);

        /// <summary>The <c>account_tokens</c> table in this session.</summary>
        public AccountTokenStore Tokens => new(session);

        /// <summary>The <c>sessions</c> and <c>refresh_tokens</c> tables in this session.</summary>
        public SessionStore Sessions => new(session);
    }
}
