using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

public enum EmailChangeOutcome
{
    Changed,
    Missing,
    Malformed,
    NotFound,
    Expired,
    Taken,
    CodeInvalid,
}

/// <summary>Decides what an email-change link or code does and, when it changes the address, commits before answering.</summary>
public sealed class EmailChanger(Database database, AccountEvents events, TimeProvider time, IOptions<ActivationOptions> activation)
{
    public async Task<(EmailChangeOutcome Outcome, string? Email)> ConfirmAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return (EmailChangeOutcome.Missing, null);
        }

        return AccountTokens.TryHash(token, out var hash)
            ? await ConfirmAsync(hash, cancellationToken)
            : (EmailChangeOutcome.Malformed, null);
    }

    /// <summary>With the new address and the code mailed to it; a wrong code, an unknown address and a used-up code alike are <see cref="EmailChangeOutcome.CodeInvalid"/>.</summary>
    public async Task<(EmailChangeOutcome Outcome, string? Email)> ConfirmWithCodeAsync(string email, string code, CancellationToken cancellationToken) =>
        await AccountCodeCheck.FindLinkAsync(database, TokenPurpose.EmailChange, email, code, activation.Value.MaxCodeAttempts, time.GetUtcNow(), cancellationToken) is { } hash
            ? await ConfirmAsync(hash, cancellationToken)
            : (EmailChangeOutcome.CodeInvalid, null);

    /// <summary>What following the link would do, changing nothing: null (with the account's language) when it can change the address.</summary>
    public async Task<(EmailChangeOutcome? Settled, string Language)> PeekAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return (EmailChangeOutcome.Missing, Languages.Default);
        }

        if (!AccountTokens.TryHash(token, out var hash))
        {
            return (EmailChangeOutcome.Malformed, Languages.Default);
        }

        return await database.ReadAsync(async session =>
        {
            var state = await session.Tokens.FindAsync(hash, TokenPurpose.EmailChange);
            var user = state is null ? null : await session.Users.FindAsync(state.UserId);
            return state is null || user is null || state.NewEmail is null ? ((EmailChangeOutcome?)EmailChangeOutcome.NotFound, Languages.Default)
                : state.ConsumedAt is not null || state.ExpiresAt <= time.GetUtcNow() ? (EmailChangeOutcome.Expired, user.Language)
                : (null, user.Language);
        }, cancellationToken);
    }

    private async Task<(EmailChangeOutcome, string?)> ConfirmAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var queued = 0;
        // Serializable on PostgreSQL, and the unique email key besides: of two accounts confirming one address at once, one wins.
        var result = await database.WriteAsync<(EmailChangeOutcome, string?)>(async session =>
        {
            queued = 0;
            var now = time.GetUtcNow();
            var state = await session.Tokens.FindAsync(hash, TokenPurpose.EmailChange);
            var user = state is null ? null : await session.Users.FindAsync(state.UserId);
            if (state?.NewEmail is not { } newEmail || user is null)
            {
                return (EmailChangeOutcome.NotFound, null);
            }

            if (state.ConsumedAt is not null)
            {
                // Followed again after it worked: the same answer; else it was ended by a newer request.
                return Normalization.Key(user.Email) == Normalization.Key(newEmail)
                    ? (EmailChangeOutcome.Changed, user.Email)
                    : (EmailChangeOutcome.Expired, null);
            }

            if (state.ExpiresAt <= now)
            {
                return (EmailChangeOutcome.Expired, null);
            }

            if (await session.Users.EmailTakenByOtherAsync(newEmail, user.Id))
            {
                return (EmailChangeOutcome.Taken, null);
            }

            await session.Tokens.ConsumeAsync(hash, now);
            await session.Users.ChangeEmailAsync(user.Id, newEmail);
            await session.Tokens.EndAllAsync(user.Id, TokenPurpose.EmailChange, now);
            queued = await events.QueueAsync(session, AccountEvents.EmailChanged, user.Id, user.Username, newEmail, now);
            return (EmailChangeOutcome.Changed, newEmail);
        }, cancellationToken);
        events.Announce(queued);
        return result;
    }
}
