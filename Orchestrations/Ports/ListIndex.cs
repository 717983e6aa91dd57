using System.Security.Cryptography;
using System.Text;

namespace Serverless.Orchestrations.Ports;

/// <summary>
/// How the items of an <see cref="IndexedTable{T}"/> are listed: sort orders, each kept in both directions, and
/// equality filters, each kept for every order. Every (order, direction, filter value) is a run of index rows in the
/// items' own partition whose row keys sort in list order, so a page of any list is one range scan.
/// </summary>
/// <remarks>
/// Row keys: <c>~ix|{order}.{a|d}|{* or filter=hex(value)}|{sort key}{id}</c>. Sort keys and ids are written as the hex
/// of their UTF-16 units (fixed width, so ordinal order survives) followed by a space; descending keys invert every hex
/// digit and end in <c>~</c>, which reverses the order, prefixes included. Sort keys are cut to their first
/// <see cref="MaxSortChars"/> characters (longer keys tie and fall back to the id).
/// </remarks>
public sealed class ListIndex<T>
{
    /// <summary>Row keys at or above this belong to the index, never to an item.</summary>
    public const string Reserved = "~";

    /// <summary>The longest sort key kept, in UTF-16 units.</summary>
    public const int MaxSortChars = 48;

    // Two rows per order and direction ... times (1 + filters) must fit a batch twice (old rows deleted, new ones
    // written) beside the item itself.
    private const int MaxRows = (EntityBatch.MaxWrites - 1) / 2;
    private const int MaxRowKey = 511;
    private const int MaxFilterChars = 32;

    private static readonly bool[] Directions = [false, true];

    /// <summary>Creates an index definition.</summary>
    /// <param name="version">Bump when a sort key or filter changes meaning: partitions indexed under another version are rebuilt.</param>
    /// <param name="id">The item's id, which is also its row key (may not start with <see cref="Reserved"/>).</param>
    /// <param name="orders">Sort key per order name; ordinal order of the keys is the list order.</param>
    /// <param name="filters">Value per equality filter name (null: the item is not listed under that filter).</param>
    public ListIndex(int version, Func<T, string> id, IReadOnlyDictionary<string, Func<T, string>> orders, IReadOnlyDictionary<string, Func<T, string?>>? filters = null)
    {
        Version = version;
        Id = id;
        Orders = orders;
        Filters = filters ?? new Dictionary<string, Func<T, string?>>();
        if (Orders.Count == 0 || Orders.Count * 2 * (1 + Filters.Count) > MaxRows)
        {
            throw new ArgumentException($"An index keeps 1 to {MaxRows} rows per item.", nameof(orders));
        }

        if (Orders.Keys.Concat(Filters.Keys).Any(name => name.Length is 0 or > 24 || !name.All(char.IsAsciiLetterOrDigit)))
        {
            throw new ArgumentException("Order and filter names are 1-24 ASCII letters or digits.", nameof(orders));
        }
    }

    /// <summary>The definition's version.</summary>
    public int Version { get; }

    /// <summary>The item's id (its row key).</summary>
    public Func<T, string> Id { get; }

    /// <summary>The sort orders.</summary>
    public IReadOnlyDictionary<string, Func<T, string>> Orders { get; }

    /// <summary>The equality filters.</summary>
    public IReadOnlyDictionary<string, Func<T, string?>> Filters { get; }

    /// <summary>The row keys of every index row of <paramref name="item"/>.</summary>
    public IEnumerable<string> RowKeys(T item)
    {
        var id = Id(item);
        if (id.StartsWith(Reserved, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Item ids may not start with '{Reserved}'.", nameof(item));
        }

        foreach (var (order, sortKey) in Orders)
        {
            var key = sortKey(item);
            foreach (var descending in Directions)
            {
                yield return RowKey(Prefix(order, descending, null, null), key, id, descending);
                foreach (var (filter, valueOf) in Filters)
                {
                    if (valueOf(item) is { } value)
                    {
                        yield return RowKey(Prefix(order, descending, filter, value), key, id, descending);
                    }
                }
            }
        }
    }

    /// <summary>The row-key prefix of one list: an order, a direction and at most one filter value.</summary>
    public static string Prefix(string order, bool descending, string? filter, string? value) =>
        $"~ix|{order}.{(descending ? 'd' : 'a')}|{(filter is null ? "*" : filter + "=" + FilterKey(value!))}|";

    /// <summary>
    /// The row key that splits a list at <paramref name="sortKey"/>: ascending, the rows at or above it hold sort keys
    /// ≥ <paramref name="sortKey"/>; descending, the rows at or above it hold sort keys &lt; <paramref name="sortKey"/>.
    /// </summary>
    public static string Boundary(string prefix, string sortKey, bool descending) =>
        descending ? prefix + Encode(Cut(sortKey), descending: true) + "~" : prefix + Encode(Cut(sortKey), descending: false);

    /// <summary>The end (exclusive) of a prefix's rows.</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + "}";

    private static string RowKey(string prefix, string sortKey, string id, bool descending)
    {
        var encodedId = Encode(id, descending);
        var room = (MaxRowKey - prefix.Length - encodedId.Length - 1) / 4;
        if (room < 1)
        {
            throw new ArgumentException($"Id '{id}' is too long to index.", nameof(id));
        }

        var key = Cut(sortKey);
        return prefix + Encode(key.Length > room ? key[..room] : key, descending) + encodedId;
    }

    private static string Cut(string sortKey) => sortKey.Length > MaxSortChars ? sortKey[..MaxSortChars] : sortKey;

    // Long values are hashed so the key stays bounded; readers compare the real value again.
    private static string FilterKey(string value) =>
        value.Length <= MaxFilterChars ? Encode(value, descending: false) : "h" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    private static string Encode(string text, bool descending)
    {
        var builder = new StringBuilder(text.Length * 4 + 1);
        foreach (var unit in text)
        {
            var value = descending ? 0xFFFF - unit : unit;
            builder.Append(value.ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder.Append(descending ? '~' : ' ').ToString();
    }
}
