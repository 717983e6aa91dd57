using System.Numerics.Tensors;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// One collection's unit vectors in one contiguous array, with their chunk row ids in ascending order. Immutable:
/// a write builds the next arena and swaps it in, so a search scans a consistent snapshot without locks.
/// </summary>
internal sealed class VectorArena
{
    // Below this many vectors a second thread costs more to start than it saves.
    private const int ParallelThreshold = 16_384;

    private readonly long[] _rowIds;
    private readonly float[] _vectors;
    private readonly MetadataColumns _metadata;

    public VectorArena(int dimensions, long[] rowIds, float[] vectors, string[] metadata, int count)
        : this(dimensions, rowIds, vectors, new MetadataColumns(metadata, count), count)
    {
    }

    private VectorArena(int dimensions, long[] rowIds, float[] vectors, MetadataColumns metadata, int count)
    {
        Dimensions = dimensions;
        _rowIds = rowIds;
        _vectors = vectors;
        _metadata = metadata;
        Count = count;
    }

    public int Dimensions { get; }

    public int Count { get; }

    /// <summary>Approximate bytes held, for the load log.</summary>
    public long Bytes => (_vectors.LongLength * sizeof(float)) + (_rowIds.LongLength * sizeof(long));

    /// <summary>Scales <paramref name="vector"/> to unit length in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }

    /// <summary>
    /// The next arena: this one without <paramref name="removed"/> row ids, plus <paramref name="added"/> (unit
    /// vectors whose row ids are all above every id held, as SQLite assigns them, with their metadata JSON).
    /// </summary>
    public VectorArena With(IReadOnlySet<long> removed, IReadOnlyList<(long RowId, float[] Vector, string Metadata)> added)
    {
        var capacity = Count + added.Count;
        var rowIds = new long[capacity];
        var vectors = new float[(long)capacity * Dimensions];
        var kept = new List<int>(Count);
        var count = 0;
        for (var i = 0; i < Count; i++)
        {
            if (removed.Count > 0 && removed.Contains(_rowIds[i]))
            {
                continue;
            }

            rowIds[count] = _rowIds[i];
            _vectors.AsSpan(i * Dimensions, Dimensions).CopyTo(vectors.AsSpan(count * Dimensions, Dimensions));
            kept.Add(i);
            count++;
        }

        var addedMetadata = new List<string>(added.Count);
        foreach (var (rowId, vector, metadata) in added)
        {
            rowIds[count] = rowId;
            vector.CopyTo(vectors.AsSpan(count * Dimensions, Dimensions));
            addedMetadata.Add(metadata);
            count++;
        }

        return new VectorArena(Dimensions, rowIds, vectors, _metadata.With(kept, addedMetadata), count);
    }

    /// <summary>Which rows' metadata satisfy <paramref name="filter"/>, by position.</summary>
    public bool[] Mask(SearchFilter filter) => _metadata.Mask(filter);

    /// <summary>
    /// The <paramref name="k"/> most similar vectors to the unit vector <paramref name="query"/>, best first.
    /// <paramref name="mask"/> (from <see cref="Mask"/>), when given, limits the scan to the rows it marks;
    /// <paramref name="parallel"/> lets a large scan use a second thread.
    /// </summary>
    public List<(long RowId, float Score)> Search(float[] query, int k, bool[]? mask, bool parallel = true)
    {
        if (Count == 0 || k <= 0)
        {
            return [];
        }

        if (mask is not null)
        {
            var selected = new TopK(k);
            for (var i = 0; i < Count; i++)
            {
                if (mask[i])
                {
                    selected.Offer(i, TensorPrimitives.Dot(query, _vectors.AsSpan(i * Dimensions, Dimensions)));
                }
            }

            return Rows(selected);
        }

        if (!parallel || Count < ParallelThreshold || Environment.ProcessorCount < 2)
        {
            return Rows(ScanRange(query, k, 0, Count));
        }

        // Two halves on two threads: the scan is memory-bound, and one core cannot saturate the memory bus.
        var half = Count / 2;
        TopK? upper = null;
        var worker = Task.Run(() => upper = ScanRange(query, k, half, Count));
        var lower = ScanRange(query, k, 0, half);
        worker.GetAwaiter().GetResult();
        lower.Merge(upper!);
        return Rows(lower);
    }

    private TopK ScanRange(float[] query, int k, int start, int end)
    {
        var selected = new TopK(k);
        ReadOnlySpan<float> all = _vectors;
        for (var i = start; i < end; i++)
        {
            selected.Offer(i, TensorPrimitives.Dot(query, all.Slice(i * Dimensions, Dimensions)));
        }

        return selected;
    }

    private List<(long RowId, float Score)> Rows(TopK selected)
    {
        var best = selected.Drain();
        var rows = new List<(long, float)>(best.Count);
        foreach (var (index, score) in best)
        {
            rows.Add((_rowIds[index], score));
        }

        return rows;
    }

    /// <summary>A bounded min-heap of (index, score): keeps the k highest scores seen.</summary>
    private sealed class TopK(int k)
    {
        private readonly int[] _indexes = new int[k];
        private readonly float[] _scores = new float[k];
        private int _count;

        public void Offer(int index, float score)
        {
            if (_count < _indexes.Length)
            {
                _indexes[_count] = index;
                _scores[_count] = score;
                SiftUp(_count++);
            }
            else if (score > _scores[0])
            {
                _indexes[0] = index;
                _scores[0] = score;
                SiftDown(0);
            }
        }

        public void Merge(TopK other)
        {
            for (var i = 0; i < other._count; i++)
            {
                Offer(other._indexes[i], other._scores[i]);
            }
        }

        /// <summary>Best first; ties by lower index so results are stable.</summary>
        public List<(int Index, float Score)> Drain()
        {
            var items = new List<(int Index, float Score)>(_count);
            for (var i = 0; i < _count; i++)
            {
                items.Add((_indexes[i], _scores[i]));
            }

            items.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));
            return items;
        }

        private void SiftUp(int i)
        {
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (_scores[parent] <= _scores[i])
                {
                    return;
                }

                Swap(i, parent);
                i = parent;
            }
        }

        private void SiftDown(int i)
        {
            while (true)
            {
                var left = (2 * i) + 1;
                var smallest = i;
                if (left < _count && _scores[left] < _scores[smallest])
                {
                    smallest = left;
                }

                if (left + 1 < _count && _scores[left + 1] < _scores[smallest])
                {
                    smallest = left + 1;
                }

                if (smallest == i)
                {
                    return;
                }

                Swap(i, smallest);
                i = smallest;
            }
        }

        private void Swap(int a, int b)
        {
            (_indexes[a], _indexes[b]) = (_indexes[b], _indexes[a]);
            (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        }
    }
}
