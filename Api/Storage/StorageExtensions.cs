using Accounts.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Storage;

public static partial class StorageExtensions
{
    /// <summary>Registers the database <c>Database:Provider</c> names; it is created and migrated when the host starts.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        TypeHandlers.Register();
        services.AddValidatedOptions<DatabaseOptions, DatabaseOptions.Validator>(DatabaseOptions.SectionName);
        services.AddSingleton<Database>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseOptions.Postgres
                ? ActivatorUtilities.CreateInstance<PostgresDatabase>(provider)
                : ActivatorUtilities.CreateInstance<SqliteDatabase>(provider));
        services.AddHostedService<MigrationService>();
        return services;
    }

    /// <summary>Applies migrations before any other hosted service or request runs.</summary>
    private sealed partial class MigrationService(Database database, ILogger<MigrationService> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var applied = await Migrations.ApplyAsync(database, cancellationToken);
            if (applied > 0)
            {
                LogMigrated(applied, database.Location, database.LatestSchemaVersion);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s) to {Path}; schema version {Version}")]
        private partial void LogMigrated(int count, string path, int version);
    }
}
