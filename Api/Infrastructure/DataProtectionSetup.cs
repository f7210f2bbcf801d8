using Microsoft.AspNetCore.DataProtection;

namespace Accounts.Api.Infrastructure;

public static class DataProtectionSetup
{
    /// <summary>
    /// Keys that sign bearer tokens live in <c>DataProtection:KeysDirectory</c> (default
    /// <c>App_Data/keys</c> under the content root), so tokens survive a restart.
    /// </summary>
    public static IServiceCollection AddApiDataProtection(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var directory = Path.GetFullPath(configuration["DataProtection:KeysDirectory"] ?? "App_Data/keys", environment.ContentRootPath);
        services.AddDataProtection()
            .SetApplicationName("Accounts.Api")
            .PersistKeysToFileSystem(new DirectoryInfo(directory));
        return services;
    }
}
