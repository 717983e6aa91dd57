using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// The metadata of an arena's rows, with one typed column per field a filter has asked about: a filter is then a
/// pass over a few arrays instead of a JSON parse per row. Columns are built on first use and carried over (with
/// only the new rows parsed) when a write makes the next arena. Semantics match <see cref="SearchFilters.Matches"/>.
/// </summary>
internal sealed class MetadataColumns
{
    private readonly string[] _json;
    private readonly int _count;
    private readonly ConcurrentDictionary<string, Column> _columns;

    public MetadataColumns(string[] json, int count)
        : this(json, count, new ConcurrentDictionary<string, Column>(StringComparer.Ordinal))
    {
    }

    private MetadataColumns(string[] json, int count, ConcurrentDictionary<string, Column> columns)
    {
        _json = json;
        _count = count;
        _columns = columns;
    }

    private enum Kind : byte
    {
        Missing,
        Number,
        String,
        True,
        False,
    }

    /// <summary>The next rows: those of <paramref name="kept"/> (positions in this one), then <paramref name="added"/>.</summary>
    public MetadataColumns With(List<int> kept, IReadOnlyList<string> added)
    {
        var count = kept.Count + added.Count;
        var json = new string[count];
        for (var i = 0; i < kept.Count; i++)
        {
            json[i] = _json[kept[i]];
        }

        for (var i = 0; i < added.Count; i++)
        {
            json[kept.Count + i] = added[i];
        }

        var columns = new ConcurrentDictionary<string, Column>(StringComparer.Ordinal);
        foreach (var (field, column) in _columns)
        {
            var next = new Column(count);
            for (var i = 0; i < kept.Count; i++)
            {
                next.CopyFrom(column, kept[i], i);
            }

            for (var i = kept.Count; i < count; i++)
            {
                next.Parse(json[i], field, i);
            }

            columns[field] = next;
        }

        return new MetadataColumns(json, count, columns);
    }

    /// <summary>Which rows satisfy <paramref name="filter"/>.</summary>
    public bool[] Mask(SearchFilter filter)
    {
        var mask = new bool[_count];
        switch (filter)
        {
            case SearchFilter.Equal eq:
                Mark(mask, eq.Field, column => row => column.Compare(row, eq.Value) == 0);
                break;
            case SearchFilter.In any:
                Mark(mask, any.Field, column => row =>
                {
                    foreach (var value in any.Values)
                    {
                        if (column.Compare(row, value) == 0)
                        {
                            return true;
                        }
                    }

                    return false;
                });
                break;
            case SearchFilter.Range range:
                Mark(mask, range.Field, column => row =>
                    Holds(column.Compare(row, range.Gt), o => o > 0) && Holds(column.Compare(row, range.Gte), o => o >= 0)
                    && Holds(column.Compare(row, range.Lt), o => o < 0) && Holds(column.Compare(row, range.Lte), o => o <= 0)
                    && column.Has(row));
                break;
            case SearchFilter.And and:
                Array.Fill(mask, true);
                foreach (var part in and.Filters)
                {
                    var inner = Mask(part);
                    for (var i = 0; i < mask.Length; i++)
                    {
                        mask[i] &= inner[i];
                    }
                }

                break;
            case SearchFilter.Or or:
                foreach (var part in or.Filters)
                {
                    var inner = Mask(part);
                    for (var i = 0; i < mask.Length; i++)
                    {
                        mask[i] |= inner[i];
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown filter kind.");
        }

        return mask;
    }

    // An absent bound always holds; a present one holds when the kinds agree and the order is accepted.
    private static bool Holds(int? order, Func<int, bool> accept) => order is null ? true : order != int.MinValue && accept(order.Value);

    private void Mark(bool[] mask, string field, Func<Column, Func<int, bool>> predicate)
    {
        var column = _columns.GetOrAdd(field, f =>
        {
            var built = new Column(_count);
            for (var i = 0; i < _count; i++)
            {
                built.Parse(_json[i], f, i);
            }

            return built;
        });
        var test = predicate(column);
        for (var i = 0; i < _count; i++)
        {
            mask[i] = test(i);
        }
    }

    private sealed class Column(int count)
    {
        private readonly Kind[] _kinds = new Kind[count];
        private readonly double[] _numbers = new double[count];
        private readonly string?[] _strings = new string?[count];

        public bool Has(int row) => _kinds[row] != Kind.Missing;

        public void CopyFrom(Column other, int from, int to)
        {
            _kinds[to] = other._kinds[from];
            _numbers[to] = other._numbers[from];
            _strings[to] = other._strings[from];
        }

        public void Parse(string json, string field, int row)
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty(field, out var value))
            {
                return;
            }

            switch (value.ValueKind)
            {
                case JsonValueKind.Number:
                    _kinds[row] = Kind.Number;
                    _numbers[row] = value.GetDouble();
                    break;
                case JsonValueKind.String:
                    _kinds[row] = Kind.String;
                    _strings[row] = value.GetString();
                    break;
                case JsonValueKind.True:
                    _kinds[row] = Kind.True;
                    break;
                case JsonValueKind.False:
                    _kinds[row] = Kind.False;
                    break;
            }
        }

        /// <summary>Null when there is no bound; <see cref="int.MinValue"/> when the kinds differ (never matches).</summary>
        public int? Compare(int row, JsonValue? bound)
        {
            if (bound is null)
            {
                return null;
            }

            return (_kinds[row], bound.GetValueKind()) switch
            {
                (Kind.Number, JsonValueKind.Number) => _numbers[row].CompareTo(bound.GetValue<double>()),
                (Kind.String, JsonValueKind.String) => string.CompareOrdinal(_strings[row], bound.GetValue<string>()) switch { < 0 => -1, > 0 => 1, _ => 0 },
                (Kind.True, JsonValueKind.True) or (Kind.False, JsonValueKind.False) => 0,
                _ => int.MinValue,
            };
        }
    }
}
