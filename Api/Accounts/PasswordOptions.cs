using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Settings under <c>Passwords</c>.</summary>
public sealed class PasswordOptions
{
    public const string SectionName = "Passwords";

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA512.</summary>
    public const int DefaultIterations = 220_000;

    /// <summary>PBKDF2-HMAC-SHA512 iterations for new hashes; older hashes are upgraded at login.</summary>
    public int Iterations { get; set; } = DefaultIterations;

    internal sealed class Validator : IValidateOptions<PasswordOptions>
    {
        public ValidateOptionsResult Validate(string? name, PasswordOptions options) =>
            options.Iterations is >= 1_000 and <= 10_000_000
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"Passwords:Iterations must be between 1000 and 10000000 (OWASP recommends {DefaultIterations}).");
    }
}
