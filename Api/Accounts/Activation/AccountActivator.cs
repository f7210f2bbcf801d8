using Accounts.Api.Storage;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Decides what a token does and, when it activates, commits before answering.</summary>
public sealed class AccountActivator(Database database, AccountEvents events, TimeProvider time, IOptions<ActivationOptions> options)
{
    /// <summary>
    /// With the 6-digit code mailed to <paramref name="email"/>: as the link would, or
    /// <see cref="ActivationOutcome.CodeInvalid"/> for a wrong code, an unknown address and a code
    /// used up by <c>Activation:MaxCodeAttempts</c> tries alike.
    /// </summary>
    public async Task<ActivationOutcome> ActivateWithCodeAsync(string email, string code, CancellationToken cancellationToken) =>
        await AccountCodeCheck.FindLinkAsync(database, TokenPurpose.Activation, email, code, options.Value.MaxCodeAttempts, time.GetUtcNow(), cancellationToken) is { } hash
            ? await ActivateAsync(hash, cancellationToken)
            : ActivationOutcome.CodeInvalid;

    public async Task<ActivationOutcome> ActivateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return ActivationOutcome.Missing;
        }

        return AccountTokens.TryHash(token, out var hash)
            ? await ActivateAsync(hash, cancellationToken)
            : ActivationOutcome.Malformed;
    }

    private async Task<ActivationOutcome> ActivateAsync(byte[] hash, CancellationToken cancellationToken)
    {
        // Read first, without the write gate: unknown, used and expired tokens never queue behind writers.
        var state = await database.ReadAsync(session => session.Tokens.FindAsync(hash, TokenPurpose.Activation), cancellationToken);
        var now = time.GetUtcNow();
        if (Decide(state, now) is { } decided)
        {
            return decided;
        }

        var queued = 0;
        var outcome = await database.WriteAsync(async session =>
        {
            queued = 0;
            if (await session.Tokens.ConsumeAsync(hash, now))
            {
                if (await session.Users.ActivateAsync(state!.UserId, now))
                {
                    queued = await events.QueueAsync(session, AccountEvents.Activated, state.UserId, now);
                    return ActivationOutcome.Activated;
                }

                // Not pending any more: activated meanwhile, or erased by housekeeping as never activated.
                return await session.Users.FindAsync(state.UserId) is null ? ActivationOutcome.Expired : ActivationOutcome.AlreadyActive;
            }

            // Another request consumed it between our read and our write.
            var current = await session.Tokens.FindAsync(hash, TokenPurpose.Activation);
            return Decide(current, now) ?? ActivationOutcome.AlreadyActive;
        }, cancellationToken);
        events.Announce(queued);
        return outcome;
    }

    /// <summary>
    /// What following the link would do, changing nothing: the settled outcome (missing, unknown,
    /// expired, already active), or null with the account's language when the token can activate.
    /// </summary>
    public async Task<(ActivationOutcome? Settled, string Language)> PeekAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return (ActivationOutcome.Missing, Languages.Default);
        }

        if (!AccountTokens.TryHash(token, out var hash))
        {
            return (ActivationOutcome.Malformed, Languages.Default);
        }

        return await database.ReadAsync(async session =>
        {
            var state = await session.Tokens.FindAsync(hash, TokenPurpose.Activation);
            if (Decide(state, time.GetUtcNow()) is { } settled)
            {
                return ((ActivationOutcome?)settled, Languages.Default);
            }

            var user = await session.Users.FindAsync(state!.UserId);
            return (null, user?.Language ?? Languages.Default);
        }, cancellationToken);
    }

    /// <summary>The outcome when it is settled without a write; null when the token can activate.</summary>
    private static ActivationOutcome? Decide(TokenState? state, DateTimeOffset now) => state switch
    {
        null => ActivationOutcome.NotFound,
        { UserStatus: null } => ActivationOutcome.Expired, // the account was erased; its link lingers until it expires
        { ConsumedAt: not null } or { UserStatus: AccountStatus.Active } => ActivationOutcome.AlreadyActive,
        _ when state.ExpiresAt <= now => ActivationOutcome.Expired,
        _ => null,
    };
}
