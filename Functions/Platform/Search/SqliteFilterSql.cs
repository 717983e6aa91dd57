using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// Translates a <see cref="SearchFilter"/> into a SQL condition over <c>json_extract(metadata, …)</c>. Both the JSON
/// path and the values are bound parameters; field names are validated again because a filter may be built in code.
/// </summary>
/// <remarks>
/// Every comparison is guarded by <c>json_type</c> so that kinds never mix: SQLite orders any text above any number,
/// which would let <c>{"year":{"gte":2020}}</c> match <c>"year":"unknown"</c>.
/// </remarks>
internal sealed class SqliteFilterSql
{
    private readonly SqliteCommand _command;
    private readonly string _column;
    private int _next;

    private SqliteFilterSql(SqliteCommand command, string column)
    {
        _command = command;
        _column = column;
    }

    /// <summary>Appends the condition for <paramref name="filter"/> to <paramref name="sql"/>, binding its parameters on <paramref name="command"/>.</summary>
    public static void Append(StringBuilder sql, SqliteCommand command, SearchFilter filter, string metadataColumn)
    {
        new SqliteFilterSql(command, metadataColumn).Write(sql, filter);
    }

    private void Write(StringBuilder sql, SearchFilter filter)
    {
        switch (filter)
        {
            case SearchFilter.Equal eq:
                Compare(sql, eq.Field, "=", eq.Value);
                break;
            case SearchFilter.In any:
                sql.Append('(');
                for (var i = 0; i < any.Values.Count; i++)
                {
                    sql.Append(i == 0 ? "" : " OR ");
                    Compare(sql, any.Field, "=", any.Values[i]);
                }

                sql.Append(')');
                break;
            case SearchFilter.Range range:
                var bounds = new (string Op, JsonValue? Value)[] { (">", range.Gt), (">=", range.Gte), ("<", range.Lt), ("<=", range.Lte) };
                var written = 0;
                sql.Append('(');
                foreach (var (op, value) in bounds)
                {
                    if (value is not null)
                    {
                        sql.Append(written++ == 0 ? "" : " AND ");
                        Compare(sql, range.Field, op, value);
                    }
                }

                // A range without bounds still requires the field to be there.
                if (written == 0)
                {
                    sql.Append("json_type(").Append(_column).Append(", ").Append(Path(range.Field)).Append(") IS NOT NULL");
                }

                sql.Append(')');
                break;
            case SearchFilter.And and:
                Group(sql, and.Filters, " AND ", "1");
                break;
            case SearchFilter.Or or:
                Group(sql, or.Filters, " OR ", "0");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown filter kind.");
        }
    }

    private void Group(StringBuilder sql, IReadOnlyList<SearchFilter> filters, string separator, string empty)
    {
        if (filters.Count == 0)
        {
            sql.Append(empty);
            return;
        }

        sql.Append('(');
        for (var i = 0; i < filters.Count; i++)
        {
            sql.Append(i == 0 ? "" : separator);
            Write(sql, filters[i]);
        }

        sql.Append(')');
    }

    private void Compare(StringBuilder sql, string field, string op, JsonValue value)
    {
        var path = Path(field);
        var kind = SearchFilters.KindOf(value);
        var types = kind switch
        {
            JsonValueKind.Number => "('integer','real')",
            JsonValueKind.String => "('text')",
            _ => null,
        };
        if (types is null)
        {
            // json_extract turns booleans into 1/0, indistinguishable from numbers; json_type tells them apart.
            if (op != "=")
            {
                throw new ArgumentException($"Field '{field}': booleans support only equality.", nameof(value));
            }

            sql.Append("json_type(").Append(_column).Append(", ").Append(path).Append(") = ")
                .Append(value.GetValue<bool>() ? "'true'" : "'false'");
            return;
        }

        var parameter = Bind(kind == JsonValueKind.Number ? value.GetValue<double>() : value.GetValue<string>());
        sql.Append("(json_type(").Append(_column).Append(", ").Append(path).Append(") IN ").Append(types)
            .Append(" AND json_extract(").Append(_column).Append(", ").Append(path).Append(") ").Append(op).Append(' ').Append(parameter).Append(')');
    }

    private string Path(string field)
    {
        if (!SearchFilters.IsValidFieldName(field))
        {
            throw new ArgumentException($"'{field}' is not a valid metadata field name.", nameof(field));
        }

        return Bind("$." + field);
    }

    private string Bind(object value)
    {
        var name = "$f" + (_next++).ToString(CultureInfo.InvariantCulture);
        _command.Parameters.AddWithValue(name, value);
        return name;
    }
}
