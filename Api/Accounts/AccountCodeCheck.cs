using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Accounts.Api.Accounts;

/// <summary>Turns a code typed by a person into the link it was mailed beside.</summary>
public static class AccountCodeCheck
{
    /// <summary>
    /// The one answer to a code that opens nothing, whatever the reason (wrong, an unknown address,
    /// used up): a 400 naming <c>code</c>.
    /// </summary>
    public static ValidationProblem Invalid() =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["code"] = ["The code is not valid. Check it, or ask for a new mail."] },
            title: "The code is not valid.",
            extensions: new Dictionary<string, object?> { ["code"] = AccountErrors.CodeInvalid });

    /// <summary>
    /// In one write, the same work whether or not the address has an account: counts the try
    /// against the address (atomically, so tries at once are each counted), then the token hash of
    /// the address's newest <paramref name="purpose"/> link when <paramref name="code"/> is its code
    /// and this try is within <paramref name="maxAttempts"/>; the count then starts again. Null
    /// otherwise, for the caller to answer <c>code_invalid</c> whatever the reason.
    /// </summary>
    public static Task<byte[]?> FindLinkAsync(
        Database database, string purpose, string email, string code, int maxAttempts, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
        {
            var attempt = await session.Tokens.CountCodeAttemptAsync(purpose, email, now);
            // An email change's code is tied to the new address, which no account has yet. An address
            // without an account looks for the code too (of no account), and a used-up code is looked
            // up before it is refused: every failure runs the same queries.
            var user = purpose == TokenPurpose.EmailChange ? null : await session.Users.FindByEmailAsync(email);
            var found = !AccountCodes.IsWellFormed(code) ? null
                : purpose == TokenPurpose.EmailChange ? await session.Tokens.FindByNewEmailCodeAsync(email, purpose, code)
                : await session.Tokens.FindByCodeAsync(user?.Id ?? Guid.Empty, purpose, code);
            var hash = attempt > maxAttempts ? null : found;
            if (hash is not null)
            {
                await session.Tokens.ClearCodeAttemptsAsync(purpose, email);
            }

            return hash;
        }, cancellationToken);

    /// <summary>What is wrong with an address and a code as sent (not whether they match), or null.</summary>
    public static Dictionary<string, string[]>? RequestErrors(string? email, string? code)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(email))
        {
            errors["email"] = ["Email is required with a code."];
        }
        else if (!EmailAddresses.IsValid(email))
        {
            errors["email"] = ["Email is not a valid email address."];
        }

        if (string.IsNullOrEmpty(code))
        {
            errors["code"] = ["Code is required with an email."];
        }
        else if (!AccountCodes.IsWellFormed(code))
        {
            errors["code"] = [$"Code must be the {AccountCodes.Length} digits from the mail."];
        }

        return errors.Count > 0 ? errors : null;
    }
}
