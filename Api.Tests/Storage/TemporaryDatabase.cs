using Accounts.Api.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Tests.Storage;

/// <summary>A temporary folder for a test class's SQLite files, deleted with the class.</summary>
public sealed class TemporaryDatabase(string prefix) : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>A <see cref="Database"/> on a file in the folder (the same file each call).</summary>
    public Database Create()
    {
        var options = Options.Create(new DatabaseOptions { ConnectionString = $"Data Source={Path.Combine(Directory, "test.db")}" });
        return new Database(options, new TestHostEnvironment(Directory));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>An <see cref="IHostEnvironment"/> rooted at a test folder.</summary>
public sealed class TestHostEnvironment(string root) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Testing";

    public string ApplicationName { get; set; } = "Api";

    public string ContentRootPath { get; set; } = root;

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
