using Accounts.Api.Storage;

namespace Accounts.Api.Accounts;

/// <summary>Decides what a token does and, when it activates, commits before answering.</summary>
public sealed class AccountActivator(Database database, TimeProvider time)
{
    public async Task<ActivationOutcome> ActivateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return ActivationOutcome.Missing;
        }

        if (!AccountTokens.TryHash(token, out var hash))
        {
            return ActivationOutcome.Malformed;
        }

        // Read first, without the write gate: unknown, used and expired tokens never queue behind writers.
        var state = await database.ReadAsync(session => session.Tokens.FindAsync(hash, TokenPurpose.Activation), cancellationToken);
        var now = time.GetUtcNow();
        if (Decide(state, now) is { } decided)
        {
            return decided;
        }

        return await database.WriteAsync(async session =>
        {
            if (await session.Tokens.ConsumeAsync(hash, now))
            {
                return await session.Users.ActivateAsync(state!.UserId, now)
                    ? ActivationOutcome.Activated
                    : ActivationOutcome.AlreadyActive;
            }

            // Another request consumed it between our read and our write.
            var current = await session.Tokens.FindAsync(hash, TokenPurpose.Activation);
            return Decide(current, now) ?? ActivationOutcome.AlreadyActive;
        }, cancellationToken);
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
        { ConsumedAt: not null } or { UserStatus: AccountStatus.Active } => ActivationOutcome.AlreadyActive,
        _ when state.ExpiresAt <= now => ActivationOutcome.Expired,
        _ => null,
    };
}
