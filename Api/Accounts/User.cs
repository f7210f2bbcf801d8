namespace Accounts.Api.Accounts;

public static class AccountStatus
{
    public const string PendingActivation = "pending_activation";
    public const string Active = "active";
}

/// <summary>A row of <c>users</c>.</summary>
public sealed class User
{
    public Guid Id { get; init; }

    public string Username { get; init; } = "";

    public string Email { get; init; } = "";

    public string PasswordHash { get; init; } = "";

    public DateOnly? Birthday { get; init; }

    public string Language { get; init; } = Languages.Default;

    public string Status { get; init; } = AccountStatus.PendingActivation;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ActivatedAt { get; init; }

    /// <summary>Changes with the password; bearer tokens carry it, and one with an old stamp is refused.</summary>
    public string SecurityStamp { get; init; } = "";

    public static string NewSecurityStamp() => Guid.NewGuid().ToString("N");
}
