using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Xml;
using CsvHelper;
using HtmlAgilityPack;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// A parsed document as blocks of text. A block may carry the heading of its section; an atomic block (a CSV row,
/// a JSON array element) is a unit the chunker never splits, only merges with its neighbours.
/// </summary>
internal sealed record TextBlock(string? Heading, string Text, bool Atomic = false);

/// <summary>The file a document could not be read from, with a reason for the document's error status.</summary>
internal sealed class UnparseableDocumentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// File type → text. txt as is; md through Markdig, headings kept as section titles; html through HtmlAgilityPack
/// without script/style; csv through CsvHelper, each row "header: value" lines; json flattened to "path: value"
/// lines (an array: one block per element); docx read from word/document.xml (paragraphs w:p, text w:t).
/// </summary>
internal static class DocumentParsers
{
    public static readonly string[] Extensions = [".txt", ".md", ".html", ".csv", ".json", ".docx"];

    private const int MaxJsonDepth = 32;

    /// <summary>
    /// The most of word/document.xml a .docx may inflate to. Deflate packs repeated text over 1000:1, so without it a
    /// file within the upload limit could make ingestion hold gigabytes; real documents' XML stays far below.
    /// </summary>
    public const long MaxDocxXmlBytes = 64L * 1024 * 1024;

    public static bool IsSupported(string extension) => Extensions.Contains(extension, StringComparer.Ordinal);

    public static string ContentType(string extension) => extension switch
    {
        ".md" => "text/markdown",
        ".html" => "text/html",
        ".csv" => "text/csv",
        ".json" => "application/json",
        ".docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "text/plain",
    };

    public static async Task<List<TextBlock>> ParseAsync(string extension, Stream content, CancellationToken cancellationToken)
    {
        try
        {
            if (extension == ".docx")
            {
                return await ParseDocxAsync(content, cancellationToken);
            }

            using var reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            var text = await reader.ReadToEndAsync(cancellationToken);
            return extension switch
            {
                ".md" => ParseMarkdown(text),
                ".html" => ParseHtml(text),
                ".csv" => ParseCsv(text),
                ".json" => ParseJson(text),
                _ => [new TextBlock(null, text)],
            };
        }
        catch (Exception e) when (e is JsonException or XmlException or InvalidDataException or CsvFormatException or DecoderFallbackException)
        {
            throw new UnparseableDocumentException($"The {extension} file could not be parsed: {e.Message}", e);
        }
        catch (FileTooLargeException e)
        {
            throw new UnparseableDocumentException($"The {extension} file unpacks to more than {MaxDocxXmlBytes} bytes of document text; split it into smaller files.", e);
        }
    }

    private static List<TextBlock> ParseMarkdown(string markdown)
    {
        var document = Markdown.Parse(markdown);
        var blocks = new List<TextBlock>();
        string? heading = null;
        var body = new StringBuilder();
        void Flush()
        {
            if (body.Length > 0)
            {
                blocks.Add(new TextBlock(heading, body.ToString().Trim()));
                body.Clear();
            }
        }

        foreach (var block in document)
        {
            if (block is HeadingBlock h)
            {
                Flush();
                heading = InlineText(h.Inline);
                continue;
            }

            var text = BlockText(block, markdown);
            if (text.Length > 0)
            {
                body.Append(text).Append("\n\n");
            }
        }

        Flush();
        return blocks;
    }

    private static string BlockText(Block block, string source) => block switch
    {
        LeafBlock { Inline: { } inline } => InlineText(inline),
        // Code and other literal leaves keep their lines as written.
        LeafBlock leaf => leaf.Lines.ToString().Trim(),
        ContainerBlock container => string.Join("\n", container.Select(b => BlockText(b, source)).Where(t => t.Length > 0)),
        _ => "",
    };

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var item in inline.Descendants())
        {
            switch (item)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case LineBreakInline:
                    text.Append('\n');
                    break;
            }
        }

        return text.ToString().Trim();
    }

    private static List<TextBlock> ParseHtml(string html)
    {
        var document = new HtmlDocument();
        document.LoadHtml(html);
        foreach (var node in document.DocumentNode.SelectNodes("//script|//style|//noscript|//template")?.ToList() ?? [])
        {
            node.Remove();
        }

        var text = new StringBuilder();
        Walk(document.DocumentNode, text);
        var normalized = string.Join("\n\n", text.ToString().Split('\n').Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
            .Where(l => l.Length > 0));
        var title = document.DocumentNode.SelectSingleNode("//title")?.InnerText.Trim();
        return normalized.Length == 0 ? [] : [new TextBlock(string.IsNullOrEmpty(title) ? null : HtmlEntity.DeEntitize(title), normalized)];
    }

    private static readonly HashSet<string> BlockElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "table", "ul", "ol", "pre", "blockquote", "title",
    };

    private static void Walk(HtmlNode node, StringBuilder text)
    {
        if (node.NodeType == HtmlNodeType.Text)
        {
            text.Append(HtmlEntity.DeEntitize(node.InnerText));
            return;
        }

        if (node.NodeType == HtmlNodeType.Comment || node.Name.Equals("title", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var isBlock = BlockElements.Contains(node.Name);
        if (isBlock)
        {
            text.Append('\n');
        }

        foreach (var child in node.ChildNodes)
        {
            Walk(child, text);
        }

        if (isBlock)
        {
            text.Append('\n');
        }
    }

    private static List<TextBlock> ParseCsv(string csv)
    {
        using var rows = CsvReader.Create(new StringReader(csv), CsvReaderOptions.Default, false);
        var headers = rows.Headers.ToList();
        if (headers.Count == 0)
        {
            throw new UnparseableDocumentException("The .csv file has no header row.");
        }

        var blocks = new List<TextBlock>();
        while (rows.Read())
        {
            var lines = headers.Select((h, i) => (Header: h, Value: i < rows.FieldCount ? rows.GetString(i).Trim() : null))
                .Where(c => !string.IsNullOrEmpty(c.Value))
                .Select(c => $"{c.Header}: {c.Value}");
            var row = string.Join("\n", lines);
            if (row.Length > 0)
            {
                blocks.Add(new TextBlock(null, row, Atomic: true));
            }
        }

        return blocks;
    }

    private static List<TextBlock> ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxJsonDepth, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = document.RootElement;
        var items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root];
        var blocks = new List<TextBlock>();
        foreach (var item in items)
        {
            var lines = new List<string>();
            Flatten(item, "", lines);
            if (lines.Count > 0)
            {
                blocks.Add(new TextBlock(null, string.Join("\n", lines), Atomic: root.ValueKind == JsonValueKind.Array));
            }
        }

        return blocks;
    }

    private static void Flatten(JsonElement element, string path, List<string> lines)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", lines);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{path}[{i++}]", lines);
                }

                break;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                break;
            default:
                var value = element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
                lines.Add(path.Length == 0 ? value ?? "" : $"{path}: {value}");
                break;
        }
    }

    private static async Task<List<TextBlock>> ParseDocxAsync(Stream content, CancellationToken cancellationToken)
    {
        // ZipArchive needs a seekable stream; blob streams may not be, so small copies go through a temp file.
        var temp = Path.GetTempFileName();
        try
        {
            await using (var file = File.Create(temp))
            {
                await content.CopyToAsync(file, cancellationToken);
            }

            using var zip = ZipFile.OpenRead(temp);
            var entry = zip.GetEntry("word/document.xml") ?? throw new UnparseableDocumentException("The .docx file has no word/document.xml.");
            await using var xml = new FileSizeLimit(entry.Open(), MaxDocxXmlBytes, "word/document.xml");
            using var reader = XmlReader.Create(xml, new XmlReaderSettings { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            const string W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
            var paragraphs = new List<string>();
            var current = new StringBuilder();
            var more = await reader.ReadAsync();
            while (more)
            {
                if (reader.NamespaceURI == W && reader.NodeType == XmlNodeType.Element && reader.LocalName == "t")
                {
                    // This read leaves the reader on the node after </w:t>, which the loop must look at, not skip.
                    current.Append(await reader.ReadElementContentAsStringAsync());
                    more = !reader.EOF;
                    continue;
                }

                if (reader.NamespaceURI == W && reader.NodeType == XmlNodeType.Element)
                {
                    if (reader.LocalName == "tab")
                    {
                        current.Append('\t');
                    }
                    else if (reader.LocalName is "br" or "cr")
                    {
                        current.Append('\n');
                    }
                }
                else if (reader.NamespaceURI == W && reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "p")
                {
                    EndParagraph();
                }

                more = await reader.ReadAsync();
            }

            EndParagraph();
            return paragraphs.Count == 0 ? [] : [new TextBlock(null, string.Join("\n\n", paragraphs))];

            void EndParagraph()
            {
                var text = current.ToString().Trim();
                if (text.Length > 0)
                {
                    paragraphs.Add(text);
                }

                current.Clear();
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
