using System.ComponentModel.DataAnnotations;

namespace Accounts.Api.Storage;

/// <summary>Settings under <c>Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>The SQLite connection string; the file is created and migrated at start.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Data Source=App_Data/accounts.db";

    /// <summary><c>Sqlite</c> (the only provider so far).</summary>
    [RegularExpression("^Sqlite$", ErrorMessage = "Database:Provider must be 'Sqlite'.")]
    public string Provider { get; set; } = "Sqlite";
}
