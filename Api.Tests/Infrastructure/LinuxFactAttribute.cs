namespace Accounts.Api.Tests.Infrastructure;

/// <summary>
/// A fact that holds only on Linux (it reads what the kernel reports under <c>/proc</c>): elsewhere
/// the runner reports it skipped, with the reason, instead of counting it passed without running it.
/// </summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: it reads /proc.";
        }
    }
}
