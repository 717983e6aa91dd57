using System.Text;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// The argument rules every <see cref="ISearchIndex"/> adapter enforces alike. Violations are
/// <see cref="ArgumentException"/>s with a message a caller can show (the datasets API maps them to 422).
/// </summary>
internal static class SearchArguments
{
    public const int MaxTopK = 1000;
    public const int MaxQueryWords = 32;

    /// <summary>The usual constant of reciprocal-rank fusion (Azure AI Search's too): it damps the weight of the very first ranks.</summary>
    public const int RrfK = 60;

    /// <summary>
    /// A fused score, sum of 1/(k + rank) over both rankings, scaled to (0, 1]: 1 for a chunk first in both. Raw RRF
    /// scores never pass 2/61, so a score threshold chosen for the other modes' 0..1 would drop every hybrid hit.
    /// </summary>
    public static double ScaleFused(double rrf) => Math.Min(1, rrf * (RrfK + 1) / 2);

    public static void CheckCollection(SearchCollection collection)
    {
        if (string.IsNullOrEmpty(collection.WorkspaceId) || string.IsNullOrEmpty(collection.DatasetId))
        {
            throw new ArgumentException("A collection needs a workspace id and a dataset id.", nameof(collection));
        }
    }

    /// <summary>Checks a batch of chunks; returns the length of their vectors (0 when none has one).</summary>
    public static int CheckChunks(IReadOnlyList<IndexedChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var dimensions = 0;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in chunks)
        {
            ArgumentNullException.ThrowIfNull(chunk, nameof(chunks));
            if (string.IsNullOrEmpty(chunk.ChunkId) || string.IsNullOrEmpty(chunk.DocumentId))
            {
                throw new ArgumentException("Every chunk needs a chunk id and a document id.", nameof(chunks));
            }

            if (!ids.Add(chunk.ChunkId))
            {
                throw new ArgumentException($"Chunk id '{chunk.ChunkId}' appears twice.", nameof(chunks));
            }

            ArgumentNullException.ThrowIfNull(chunk.Metadata, nameof(chunks));
            if (chunk.Vector is not { } vector)
            {
                continue;
            }

            if (vector.Length == 0 || (dimensions != 0 && vector.Length != dimensions))
            {
                throw new ArgumentException($"Vectors must be non-empty and of one length (dimensions); chunk '{chunk.ChunkId}' has {vector.Length}, others {dimensions}.", nameof(chunks));
            }

            if (!AllFinite(vector))
            {
                throw new ArgumentException($"The vector of chunk '{chunk.ChunkId}' holds a NaN or an infinity.", nameof(chunks));
            }

            dimensions = vector.Length;
        }

        return dimensions;
    }

    public static void CheckQuery(IReadOnlyList<SearchCollection> collections, SearchQuery query)
    {
        ArgumentNullException.ThrowIfNull(collections);
        ArgumentNullException.ThrowIfNull(query);
        foreach (var collection in collections)
        {
            CheckCollection(collection);
        }

        if (collections.Select(c => c.WorkspaceId).Distinct(StringComparer.Ordinal).Skip(1).Any())
        {
            throw new ArgumentException("A search spans collections of one workspace only.", nameof(collections));
        }

        if (query.TopK is < 1 or > MaxTopK)
        {
            throw new ArgumentException($"TopK must be between 1 and {MaxTopK}.", nameof(query));
        }

        if (query.Mode is SearchMode.Fulltext or SearchMode.Hybrid && string.IsNullOrWhiteSpace(query.Text))
        {
            throw new ArgumentException($"{query.Mode} search needs query text.", nameof(query));
        }

        if (query.Mode is SearchMode.Vector or SearchMode.Hybrid && (query.Vector is not { Length: > 0 } vector || !AllFinite(vector)))
        {
            throw new ArgumentException($"{query.Mode} search needs a query vector of finite numbers.", nameof(query));
        }
    }

    /// <summary>
    /// The words of user text, lower-cased, de-duplicated, at most <see cref="MaxQueryWords"/>: letters and digits
    /// only, so that nothing the user types reaches a query language as syntax.
    /// </summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        void Flush()
        {
            if (word.Length > 0 && words.Count < MaxQueryWords)
            {
                var term = word.ToString();
                if (!words.Contains(term, StringComparer.Ordinal))
                {
                    words.Add(term);
                }
            }

            word.Clear();
        }

        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else
            {
                Flush();
            }
        }

        Flush();
        return words;
    }

    private static bool AllFinite(float[] vector)
    {
        foreach (var value in vector)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }
}
