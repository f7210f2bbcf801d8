using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>Settings under <c>Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary>
    /// The provider's connection string: a SQLite file (created and migrated at start), or a
    /// PostgreSQL database (<c>Host=…;Database=…;Username=…</c>; the password from the environment
    /// or user-secrets, never appsettings.json) whose schema is migrated at start.
    /// </summary>
    public string ConnectionString { get; set; } = "Data Source=App_Data/accounts.db";

    /// <summary><c>Sqlite</c> (one instance) or <c>Postgres</c> (several instances on one database).</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>A known provider, and a connection string it can read; every message names its key.</summary>
    internal sealed class Validator : IValidateOptions<DatabaseOptions>
    {
        public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
        {
            if (options.Provider is not (Sqlite or Postgres))
            {
                return ValidateOptionsResult.Fail("Database:Provider must be 'Sqlite' or 'Postgres'.");
            }

            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return ValidateOptionsResult.Fail("Database:ConnectionString is required.");
            }

            try
            {
                switch (options.Provider)
                {
                    case DatabaseOptions.Postgres:
                        var postgres = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                        if (string.IsNullOrEmpty(postgres.Host))
                        {
                            return ValidateOptionsResult.Fail(
                                "Database:ConnectionString must name a PostgreSQL server (Host=…;Database=…;Username=…) when Database:Provider is 'Postgres'.");
                        }

                        break;
                    case DatabaseOptions.Sqlite:
                        var sqlite = new SqliteConnectionStringBuilder(options.ConnectionString);
                        if (string.IsNullOrEmpty(sqlite.DataSource))
                        {
                            return ValidateOptionsResult.Fail(
                                "Database:ConnectionString must name a SQLite file (Data Source=…) when Database:Provider is 'Sqlite'.");
                        }

                        break;
                }
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(
                    $"Database:ConnectionString is not a {options.Provider} connection string: {ex.Message}");
            }

            return ValidateOptionsResult.Success;
        }
    }
}
