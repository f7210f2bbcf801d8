namespace Accounts.Api.Storage;

/// <summary>
/// What a write relies on when other writes run at the same time, in this instance or another:
/// the database picks the isolation that gives it (on PostgreSQL; SQLite's one writer runs every
/// write alone, which gives both).
/// </summary>
public enum WriteNeeds
{
    /// <summary>
    /// Whatever the work read still holds when it commits, as if no other write ran at the same
    /// time: a decision may rest on any row it looked at. Serializable; the default.
    /// </summary>
    ReadsToHold,

    /// <summary>
    /// Only what its statements guard themselves: a unique key that refuses a second row, an
    /// <c>UPDATE … WHERE</c> whose condition is the decision, an atomic upsert, a queue claim with
    /// <c>SKIP LOCKED</c>, or rows it locked before deciding on them (<see cref="DbSession.ForUpdate"/>).
    /// Read committed: PostgreSQL's serializable isolation also aborts writes that merely touched
    /// the same index pages, and on a hot path those retries cost more than they protect. A unique
    /// key violated by a row inserted meanwhile runs the work again, and then it sees that row.
    /// </summary>
    KeysAndLocks,
}
