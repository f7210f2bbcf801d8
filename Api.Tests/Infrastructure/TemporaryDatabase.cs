using Accounts.Api.Storage;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>A temporary folder and its database (<see cref="TestStorage"/>) for a test class's store-level tests, deleted with the class.</summary>
public sealed class TemporaryDatabase(string prefix) : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>A <see cref="Database"/> of the suite's provider on the folder's database (the same one each call).</summary>
    public Database Create()
    {
        TypeHandlers.Register();
        return TestStorage.IsPostgres
            ? new PostgresDatabase(Options(), NullLogger<PostgresDatabase>.Instance)
            : CreateSqlite();
    }

    /// <summary>A <see cref="SqliteDatabase"/> on a file in the folder, for the tests of SQLite's own machinery.</summary>
    public SqliteDatabase CreateSqlite() =>
        new(Microsoft.Extensions.Options.Options.Create(new DatabaseOptions
        {
            ConnectionString = $"Data Source={Path.Combine(Directory, "test.db")}",
        }), new TestHostEnvironment(Directory), NullLogger<SqliteDatabase>.Instance);

    private IOptions<DatabaseOptions> Options() =>
        Microsoft.Extensions.Options.Options.Create(new DatabaseOptions
        {
            Provider = TestStorage.Provider,
            ConnectionString = TestStorage.ConnectionString(Directory),
        });

    public void Dispose() => TestStorage.Delete(Directory);
}

/// <summary>An <see cref="IHostEnvironment"/> rooted at a test folder.</summary>
public sealed class TestHostEnvironment(string root) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Testing";

    public string ApplicationName { get; set; } = "Api";

    public string ContentRootPath { get; set; } = root;

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
