using System.Text;
using System.Text.RegularExpressions;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// Splits parsed blocks into chunks. <c>general</c>: at most <c>size</c> characters, cut at the first separator (in
/// priority order) that makes pieces fit, consecutive chunks sharing up to <c>overlap</c> characters. <c>paragraph</c>:
/// paragraph boundaries, small paragraphs merged up to <c>size</c> (a longer one split as in general).
/// <c>qa_pairs</c>: one chunk per "Q:/A:" (or "Question:/Answer:", also CSV question/answer columns) pair.
/// Atomic blocks (CSV rows, JSON array elements) are never cut, only merged up to <c>size</c>.
/// </summary>
internal static partial class Chunker
{
    public static List<string> Split(IReadOnlyList<TextBlock> blocks, ChunkingSettings settings)
    {
        if (settings.Mode == ChunkingModes.QaPairs)
        {
            return QaPairs(blocks);
        }

        var chunks = new List<string>();
        var atomic = new List<string>();
        foreach (var block in blocks)
        {
            if (block.Atomic)
            {
                atomic.Add(block.Text);
                continue;
            }

            chunks.AddRange(Merge(atomic, settings.Size));
            atomic.Clear();
            var budget = block.Heading is null ? settings.Size : Math.Max(settings.Size / 2, settings.Size - block.Heading.Length - 1);
            var pieces = settings.Mode == ChunkingModes.Paragraph
                ? Merge([.. ParagraphBreak().Split(block.Text).Select(p => p.Trim()).Where(p => p.Length > 0)], budget)
                    .SelectMany(p => p.Length > budget ? SplitText(p, budget, Math.Min(settings.Overlap, budget - 1), settings.EffectiveSeparators) : [p])
                : SplitText(block.Text, budget, Math.Min(settings.Overlap, budget - 1), settings.EffectiveSeparators);
            chunks.AddRange(pieces.Select(p => block.Heading is null ? p : block.Heading + "\n" + p));
        }

        chunks.AddRange(Merge(atomic, settings.Size));
        return chunks;
    }

    /// <summary>Consecutive units joined by blank lines while they fit; a unit larger than the size stands alone.</summary>
    private static List<string> Merge(IReadOnlyList<string> units, int size)
    {
        var merged = new List<string>();
        var current = new StringBuilder();
        foreach (var unit in units)
        {
            if (current.Length > 0 && current.Length + 2 + unit.Length > size)
            {
                merged.Add(current.ToString());
                current.Clear();
            }

            current.Append(current.Length > 0 ? "\n\n" : "").Append(unit);
        }

        if (current.Length > 0)
        {
            merged.Add(current.ToString());
        }

        return merged;
    }

    /// <summary>The general splitter (recursive by separator priority, then a hard cut), with overlap.</summary>
    public static List<string> SplitText(string text, int size, int overlap, IReadOnlyList<string> separators)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return [];
        }

        if (text.Length <= size)
        {
            return [text];
        }

        var index = -1;
        for (var i = 0; i < separators.Count; i++)
        {
            if (text.Contains(separators[i], StringComparison.Ordinal))
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            return HardCut(text, size, overlap);
        }

        var separator = separators[index];
        var rest = separators.Skip(index + 1).ToList();
        var pieces = new List<string>();
        foreach (var part in SplitKeeping(text, separator))
        {
            if (part.Length <= size)
            {
                pieces.Add(part);
            }
            else
            {
                // A piece still too long is split by the lesser separators; its sub-pieces join the window as they are.
                pieces.AddRange(SplitText(part, size, overlap, rest).Select(p => p + " "));
            }
        }

        return Window(pieces, size, overlap);
    }

    private static IEnumerable<string> SplitKeeping(string text, string separator)
    {
        var start = 0;
        while (start < text.Length)
        {
            var at = text.IndexOf(separator, start, StringComparison.Ordinal);
            if (at < 0)
            {
                yield return text[start..];
                yield break;
            }

            yield return text[start..(at + separator.Length)];
            start = at + separator.Length;
        }
    }

    private static List<string> Window(List<string> pieces, int size, int overlap)
    {
        var chunks = new List<string>();
        var window = new List<string>();
        var length = 0;
        foreach (var piece in pieces)
        {
            if (length + piece.Length > size && window.Count > 0)
            {
                Emit();
                // Keep the window's tail (whole pieces) as the next chunk's overlap.
                var keep = 0;
                var kept = 0;
                for (var i = window.Count - 1; i >= 0 && kept + window[i].Length <= overlap && kept + window[i].Length + piece.Length <= size; i--)
                {
                    kept += window[i].Length;
                    keep++;
                }

                window.RemoveRange(0, window.Count - keep);
                length = kept;
            }

            window.Add(piece);
            length += piece.Length;
        }

        Emit();
        return chunks;

        void Emit()
        {
            var chunk = string.Concat(window).Trim();
            if (chunk.Length > 0 && (chunks.Count == 0 || chunks[^1] != chunk))
            {
                chunks.Add(chunk);
            }
        }
    }

    private static List<string> HardCut(string text, int size, int overlap)
    {
        var chunks = new List<string>();
        var step = Math.Max(1, size - overlap);
        for (var start = 0; start < text.Length; start += step)
        {
            chunks.Add(text.Substring(start, Math.Min(size, text.Length - start)));
            if (start + size >= text.Length)
            {
                break;
            }
        }

        return chunks;
    }

    private static List<string> QaPairs(IReadOnlyList<TextBlock> blocks)
    {
        var pairs = new List<string>();
        var question = new StringBuilder();
        var answer = new StringBuilder();
        var inAnswer = false;
        void Flush()
        {
            if (question.Length > 0 && answer.Length > 0)
            {
                pairs.Add($"Q: {question.ToString().Trim()}\nA: {answer.ToString().Trim()}");
            }

            question.Clear();
            answer.Clear();
            inAnswer = false;
        }

        foreach (var block in blocks)
        {
            foreach (var line in block.Text.Split('\n'))
            {
                if (QuestionLine().Match(line) is { Success: true } q)
                {
                    Flush();
                    question.Append(q.Groups[1].Value);
                }
                else if (AnswerLine().Match(line) is { Success: true } a && question.Length > 0)
                {
                    inAnswer = true;
                    answer.Append(a.Groups[1].Value);
                }
                else if (line.Trim().Length > 0 && question.Length > 0)
                {
                    (inAnswer ? answer : question).Append('\n').Append(line.Trim());
                }
            }

            // A CSV row or JSON element is a pair on its own; text may continue a pair across paragraphs.
            if (block.Atomic)
            {
                Flush();
            }
        }

        Flush();
        return pairs;
    }

    [GeneratedRegex(@"\n[ \t]*\n")]
    private static partial Regex ParagraphBreak();

    [GeneratedRegex(@"^\s*(?:Q|Question)\s*[:.]\s*(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex QuestionLine();

    [GeneratedRegex(@"^\s*(?:A|Answer)\s*[:.]\s*(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerLine();
}
