using System.Data.Common;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>
/// What a store reads and writes through: a connection and, inside a write, its transaction, for
/// the length of one <see cref="Database.ReadAsync{T}"/> or
/// <see cref="Database.WriteAsync{T}(WriteNeeds, Func{DbSession, Task{T}}, CancellationToken)"/>.
/// A feature's stores take one (<c>session.Users</c>, <c>session.Outbox</c>) and pass values in
/// their own types: <see cref="Guid"/>, <see cref="DateTimeOffset"/>, <see cref="DateOnly"/> go to
/// and come from their stored forms in <see cref="TypeHandlers"/>, for Dapper's calls and for
/// prepared statements alike.
/// <para>
/// The few places where one SQL text cannot serve both providers are here too. A set of values
/// goes to SQLite as one JSON array parameter read with <c>json_each</c>, and to PostgreSQL as one
/// array parameter: either way one statement text for any number of values, so the statement can
/// stay prepared (Dapper's <c>IN @list</c> would write a new text for every count, and on
/// PostgreSQL it passes the array unexpanded).
/// </para>
/// </summary>
public sealed class DbSession
{
    private readonly DbConnection _connection;
    private readonly DbTransaction? _transaction;

    internal DbSession(DbConnection connection, DbTransaction? transaction)
    {
        _connection = connection;
        _transaction = transaction;
        IsPostgres = connection is NpgsqlConnection;
    }

    /// <summary>True on PostgreSQL, for a statement whose whole text differs between the providers.</summary>
    public bool IsPostgres { get; }

    /// <summary>
    /// What ends a <c>SELECT</c> that locks the rows it reads until the write commits, so that
    /// concurrent writers deciding on the same rows take turns: <c>FOR UPDATE</c> on PostgreSQL;
    /// nothing on SQLite, where the one writer already runs writes one at a time.
    /// </summary>
    public string ForUpdate => IsPostgres ? " FOR UPDATE" : "";

    /// <summary>The connection, for <c>Storage/</c>'s own machinery and its tests.</summary>
    internal DbConnection Connection => _connection;

    /// <summary>The write's transaction (null in a read), for <c>Storage/</c>'s own machinery and its tests.</summary>
    internal DbTransaction? Transaction => _transaction;

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? parameters = null) =>
        _connection.QuerySingleOrDefaultAsync<T>(sql, parameters, _transaction);

    public Task<T> QuerySingleAsync<T>(string sql, object? parameters = null) =>
        _connection.QuerySingleAsync<T>(sql, parameters, _transaction);

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        (await _connection.QueryAsync<T>(sql, parameters, _transaction)).AsList();

    /// <summary>The first column of the first row; default when there is no row or it is NULL.</summary>
    public Task<T?> ScalarAsync<T>(string sql, object? parameters = null) =>
        _connection.ExecuteScalarAsync<T>(sql, parameters, _transaction);

    /// <summary><see cref="ScalarAsync{T}"/> for a caller that cannot await (an observable gauge).</summary>
    public T? Scalar<T>(string sql, object? parameters = null) =>
        _connection.ExecuteScalar<T>(sql, parameters, _transaction);

    /// <summary>Runs a statement; returns the number of rows it changed.</summary>
    public Task<int> ExecuteAsync(string sql, object? parameters = null) =>
        _connection.ExecuteAsync(sql, parameters, _transaction);

    /// <summary>
    /// Runs a statement of a hot path, kept prepared on this connection (<see cref="PreparedStatements"/>);
    /// returns the number of rows it changed. Each SQL text must always come with the same
    /// parameter names in the same order.
    /// </summary>
    public Task<int> ExecutePreparedAsync(string sql, params (string Name, object? Value)[] parameters) =>
        _connection.Prepared(_transaction, sql, parameters).ExecuteNonQueryAsync();

    /// <summary>
    /// The first row of a query of a hot path, kept prepared on this connection, read by
    /// <paramref name="map"/> column by column (<see cref="DbRow"/> gives each value in its own
    /// type); default when there is none. Cheaper than a mapper that looks up the row's shape on
    /// every call, which a statement that runs on every link followed cannot afford.
    /// </summary>
    public async Task<T?> QueryPreparedFirstOrDefaultAsync<T>(string sql, Func<DbRow, T> map, params (string Name, object? Value)[] parameters)
    {
        await using var reader = await _connection.Prepared(_transaction, sql, parameters).ExecuteReaderAsync();
        return await reader.ReadAsync() ? map(new DbRow(reader)) : default;
    }

    /// <summary>A condition true when <paramref name="column"/> is one of the values in <paramref name="parameter"/>, given as <see cref="SetOf{T}"/>.</summary>
    public string InSet(string column, string parameter) =>
        IsPostgres ? $"{column} = ANY({parameter})" : $"{column} IN (SELECT value FROM json_each({parameter}))";

    /// <summary>The value of a parameter that <see cref="InSet"/> reads.</summary>
    public object SetOf<T>(IEnumerable<T> values) =>
        IsPostgres ? values.ToArray() : JsonSerializer.Serialize(values);
}

/// <summary>A row of a prepared query, each column read in our own types from its stored form (<see cref="TypeHandlers"/>).</summary>
public readonly struct DbRow
{
    private readonly DbDataReader _reader;

    internal DbRow(DbDataReader reader) => _reader = reader;

    public string Text(int column) => _reader.GetString(column);

    public string? NullableText(int column) => _reader.IsDBNull(column) ? null : _reader.GetString(column);

    public Guid Id(int column) => TypeHandlers.ReadGuid(_reader.GetValue(column));

    public DateTimeOffset Time(int column) => TypeHandlers.ReadTime(_reader.GetValue(column));

    public DateTimeOffset? NullableTime(int column) => _reader.IsDBNull(column) ? null : Time(column);

    public DateOnly? NullableDate(int column) => _reader.IsDBNull(column) ? null : TypeHandlers.ReadDate(_reader.GetString(column));
}
