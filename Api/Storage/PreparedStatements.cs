using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Accounts.Api.Storage;

/// <summary>
/// Prepared commands for the statements on the hottest paths. Microsoft.Data.Sqlite prepares a
/// command's SQL anew every time a new command runs it (it has no statement cache:
/// dotnet/efcore#14044), and for this schema preparing a statement costs several times what
/// running it does (bench/RESULTS.md). A SQLite connection that lives long, such as the writer's
/// or one of <see cref="SqliteDatabase"/>'s readers, keeps each statement prepared here; a
/// connection is used by one caller at a time, so its cache needs no lock. Npgsql prepares on the
/// server by itself (<see cref="PostgresDatabase"/> turns on its automatic preparation, which
/// outlives the pooled connection objects), so there each call gets a plain new command.
/// </summary>
internal static class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Caches = [];

    /// <summary>
    /// The prepared command for <paramref name="sql"/> on this connection, in
    /// <paramref name="transaction"/>, with its parameters set to <paramref name="parameters"/> in
    /// their stored forms (<see cref="TypeHandlers.ToStored"/>). Each SQL text must always come with
    /// the same parameter names in the same order.
    /// </summary>
    public static DbCommand Prepared(
        this IDbConnection connection, IDbTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        if (connection is NpgsqlConnection postgres)
        {
            var plain = new NpgsqlCommand(sql, postgres, (NpgsqlTransaction?)transaction);
            foreach (var (name, value) in parameters)
            {
                plain.Parameters.AddWithValue(name, TypeHandlers.ToStored(value));
            }

            return plain;
        }

        var sqlite = (SqliteConnection)connection;
        var cache = Caches.GetOrCreateValue(sqlite);
        if (!cache.TryGetValue(sql, out var command))
        {
            command = sqlite.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            cache[sql] = command;
        }

        command.Transaction = (SqliteTransaction?)transaction;
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters[i].Value = TypeHandlers.ToStored(parameters[i].Value);
        }

        return command;
    }
}
