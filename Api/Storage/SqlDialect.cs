using System.Data;
using System.Text.Json;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>
/// The few places where one SQL text cannot serve both providers, chosen by the connection a
/// statement runs on. A set of values goes to SQLite as one JSON array parameter read with
/// <c>json_each</c>, and to PostgreSQL as one array parameter: either way one statement text for
/// any number of values, so the statement can stay prepared (Dapper's <c>IN @list</c> would
/// write a new text for every count, and on PostgreSQL it passes the array unexpanded).
/// </summary>
public static class SqlDialect
{
    public static bool IsPostgres(this IDbConnection connection) => connection is NpgsqlConnection;

    /// <summary>A condition true when <paramref name="column"/> is one of the values in <paramref name="parameter"/> (<see cref="SetOf{T}"/>).</summary>
    public static string InSet(this IDbConnection connection, string column, string parameter) =>
        connection.IsPostgres()
            ? $"{column} = ANY({parameter})"
            : $"{column} IN (SELECT value FROM json_each({parameter}))";

    /// <summary>
    /// What ends a <c>SELECT</c> that locks the rows it reads until the transaction ends, so that
    /// concurrent writers deciding on the same rows take turns: <c>FOR UPDATE</c> on PostgreSQL;
    /// nothing on SQLite, where the one writer already runs writes one at a time.
    /// </summary>
    public static string ForUpdate(this IDbConnection connection) => connection.IsPostgres() ? " FOR UPDATE" : "";

    /// <summary>The value of a parameter that <see cref="InSet"/> reads.</summary>
    public static object SetOf<T>(this IDbConnection connection, IEnumerable<T> values) =>
        connection.IsPostgres() ? values.ToArray() : JsonSerializer.Serialize(values);
}
