using System.Data;
using System.Globalization;
using Dapper;

namespace Accounts.Api.Storage;

/// <summary>
/// How our types sit in SQLite, which stores only integers, reals, text and blobs: a
/// <see cref="Guid"/> as text, a <see cref="DateTimeOffset"/> as Unix milliseconds (UTC, so it
/// compares and sorts as a number), a <see cref="DateOnly"/> as <c>yyyy-MM-dd</c>.
/// </summary>
public static class TypeHandlers
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;
        Add(new GuidHandler());
        Add(new DateTimeOffsetHandler());
        Add(new DateOnlyHandler());
    }

    /// <summary>
    /// A value in the form it is stored in, for a parameter that does not pass through Dapper (a
    /// prepared statement): the same conversion as the handlers below.
    /// </summary>
    public static object ToStored(object? value) => value switch
    {
        null => DBNull.Value,
        Guid id => StoredGuid(id),
        DateTimeOffset time => StoredTime(time),
        DateOnly date => StoredDate(date),
        _ => value,
    };

    /// <summary>A <see cref="Guid"/> from its stored form.</summary>
    internal static Guid ReadGuid(object value) => value switch
    {
        string text => Guid.ParseExact(text, "D"),
        byte[] bytes => new Guid(bytes),
        _ => throw new DataException($"Cannot read a Guid from {value.GetType().Name}."),
    };

    /// <summary>A <see cref="DateTimeOffset"/> from its stored form, Unix milliseconds.</summary>
    internal static DateTimeOffset ReadTime(object value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));

    /// <summary>A <see cref="DateOnly"/> from its stored form, <c>yyyy-MM-dd</c>.</summary>
    internal static DateOnly ReadDate(string value) => DateOnly.ParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string StoredGuid(Guid value) => value.ToString("D");

    private static long StoredTime(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    private static string StoredDate(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static void Add<T>(SqlMapper.TypeHandler<T> handler)
        where T : struct
    {
        // Dapper maps these types itself and ignores a handler for parameters until the built-in mapping is removed.
        SqlMapper.RemoveTypeMap(typeof(T));
        SqlMapper.RemoveTypeMap(typeof(T?));
        SqlMapper.AddTypeHandler(handler);
    }

    private sealed class GuidHandler : SqlMapper.TypeHandler<Guid>
    {
        public override void SetValue(IDbDataParameter parameter, Guid value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = StoredGuid(value);
        }

        public override Guid Parse(object value) => ReadGuid(value);
    }

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = DbType.Int64;
            parameter.Value = StoredTime(value);
        }

        public override DateTimeOffset Parse(object value) => ReadTime(value);
    }

    private sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = StoredDate(value);
        }

        public override DateOnly Parse(object value) => ReadDate((string)value);
    }
}
