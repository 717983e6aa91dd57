using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// <see cref="IBlobStore"/> on the local file system: content in <c>&lt;DataDirectory&gt;/blobs/&lt;container&gt;/&lt;name&gt;</c>,
/// properties in a JSON sidecar at the same relative path under <c>blobs/.meta</c>.
/// </summary>
/// <remarks>
/// One process owns the folder: the lock that pairs content with its sidecar is in memory. Because names map
/// onto folders, a blob <c>a</c> and a blob <c>a/b</c> cannot both exist, and the file system's case rules apply.
/// </remarks>
internal sealed class FileBlobStore : IBlobStore
{
    public const string DefaultContentType = "application/octet-stream";

    // Container names start with a letter or digit, so these folders can never be mistaken for a container. The
    // sidecar tree mirrors the content tree name for name, so it collides exactly when the content tree would.
    private const string MetadataFolder = ".meta";
    private const string TempFolder = ".tmp";

    private static readonly FileStreamOptions WriteOptions = new()
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        Share = FileShare.None,
        Options = FileOptions.Asynchronous,
    };

    // FileShare.Delete lets an upload or delete replace the file while a download still streams the old version.
    private static readonly FileStreamOptions ReadOptions = new()
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.Read | FileShare.Delete,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    };

    private readonly string _blobRoot;
    private readonly string _metadataRoot;
    private readonly string _tempRoot;
    private readonly TimeProvider _timeProvider;

    // A blob is two files. Holding this lock while pairing them (commit, open, read properties, delete) keeps a
    // reader from matching one version's properties with another's bytes, and serializes the creation and pruning
    // of parent folders. Content streams outside it: an open handle keeps reading the version it opened.
    private readonly SemaphoreSlim _lock = new(1, 1);

    public FileBlobStore(IOptions<StorageOptions> options, TimeProvider? timeProvider = null)
    {
        _blobRoot = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), "blobs");
        _metadataRoot = Path.Combine(_blobRoot, MetadataFolder);
        _tempRoot = Path.Combine(_blobRoot, TempFolder);
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public async Task<BlobInfo?> UploadAsync(string container, string name, Stream content, string? contentType, bool overwrite, CancellationToken cancellationToken)
    {
        var location = Locate(container, name);
        ArgumentNullException.ThrowIfNull(content);
        Directory.CreateDirectory(_tempRoot);
        var tempContent = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        var tempSidecar = tempContent + ".json";
        try
        {
            long length;
            await using (var file = new FileStream(tempContent, WriteOptions))
            {
                await content.CopyToAsync(file, cancellationToken);
                // On disk before it becomes visible, so that after a crash the blob holds a whole version.
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                length = file.Length;
            }

            var properties = new BlobSidecar(
                string.IsNullOrWhiteSpace(contentType) ? DefaultContentType : contentType,
                $"\"{Guid.NewGuid():N}\"",
                _timeProvider.GetUtcNow());
            await File.WriteAllBytesAsync(tempSidecar, JsonSerializer.SerializeToUtf8Bytes(properties, BlobSidecarJson.Default.BlobSidecar), cancellationToken);

            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (!overwrite && File.Exists(location.Content))
                {
                    return null;
                }

                if (FolderClash(location) is { } clash)
                {
                    throw new NotSupportedException(
                        $"Blob '{name}' cannot be stored beside blob '{clash}' in container '{container}': the file-system store cannot hold a blob whose name is a folder of another blob's name.");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(location.Content)!);
                Directory.CreateDirectory(Path.GetDirectoryName(location.Sidecar)!);
                // Sidecar first: a crash between the two renames then leaves old bytes under a new ETag (a spurious
                // change) instead of new bytes under the old ETag (a change no cache would notice).
                File.Move(tempSidecar, location.Sidecar, overwrite: true);
                File.Move(tempContent, location.Content, overwrite: true);
            }
            finally
            {
                _lock.Release();
            }

            return new BlobInfo(container, name, length, properties.ContentType, properties.ETag, properties.LastModified);
        }
        finally
        {
            File.Delete(tempContent);
            File.Delete(tempSidecar);
        }
    }

    public async Task<BlobDownload?> OpenReadAsync(string container, string name, CancellationToken cancellationToken)
    {
        var location = Locate(container, name);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            FileStream stream;
            try
            {
                stream = new FileStream(location.Content, ReadOptions);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is UnauthorizedAccessException && Directory.Exists(location.Content)))
            {
                return null;
            }

            try
            {
                var info = await ReadInfoAsync(container, name, location, stream.Length, File.GetLastWriteTimeUtc(stream.SafeFileHandle), cancellationToken);
                return new BlobDownload(info, stream);
            }
            catch
            {
                await stream.DisposeAsync();
                throw;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<BlobInfo?> GetInfoAsync(string container, string name, CancellationToken cancellationToken)
    {
        var location = Locate(container, name);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var file = new FileInfo(location.Content);
            return file.Exists ? await ReadInfoAsync(container, name, location, file.Length, file.LastWriteTimeUtc, cancellationToken) : null;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken)
    {
        var location = Locate(container, name);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(location.Content))
            {
                return false;
            }

            File.Delete(location.Content);
            if (File.Exists(location.Sidecar))
            {
                File.Delete(location.Sidecar);
            }

            // Left behind, an empty folder 'a' would keep a later blob named 'a' from being written.
            PruneEmptyFolders(location.Content, location.ContentRoot);
            PruneEmptyFolders(location.Sidecar, location.SidecarRoot);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        PortArguments.Container(container);
        foreach (var name in EnumerateNames(Path.Combine(_blobRoot, container), string.Empty, prefix ?? string.Empty))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A file put there by hand under a name the store would refuse is not a blob; one deleted since its
            // folder was read is not listed.
            if (StoreKeys.IsValidBlobName(name) && await GetInfoAsync(container, name, cancellationToken) is { } info)
            {
                yield return info;
            }
        }
    }

    private Location Locate(string container, string name)
    {
        PortArguments.Blob(container, name);
        var contentRoot = Path.Combine(_blobRoot, container);
        var sidecarRoot = Path.Combine(_metadataRoot, container);
        return new Location(Inside(contentRoot, name), Inside(sidecarRoot, name), contentRoot, sidecarRoot);
    }

    /// <summary>
    /// The blob that keeps this one from being stored because names map onto folders: a blob named like one of its
    /// parent folders ('a' for 'a/b'), or, when this name is itself a folder, the first blob inside it.
    /// </summary>
    private static string? FolderClash(Location location)
    {
        if (Directory.Exists(location.Content))
        {
            var inside = Directory.EnumerateFiles(location.Content, "*", SearchOption.AllDirectories).FirstOrDefault();
            if (inside is not null)
            {
                return BlobName(location.ContentRoot, inside);
            }

            // Folders without a file in them (a crash between writing and pruning) hold no blob; clear the way.
            Directory.Delete(location.Content, recursive: true);
            return null;
        }

        for (var folder = Path.GetDirectoryName(location.Content); folder is not null && folder.Length > location.ContentRoot.Length; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                return BlobName(location.ContentRoot, folder);
            }
        }

        return null;
    }

    private static string BlobName(string root, string path) => Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>The path of <paramref name="name"/> under <paramref name="root"/>, refusing any name that would resolve elsewhere.</summary>
    /// <remarks>The name rules already exclude '..' and rooted names; this check still holds should those rules ever loosen.</remarks>
    private static string Inside(string root, string name)
    {
        var path = Path.GetFullPath(Path.Combine(root, name));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' resolves outside its container.", nameof(name));
        }

        return path;
    }

    private static async Task<BlobInfo> ReadInfoAsync(
        string container, string name, Location location, long length, DateTime lastWriteUtc, CancellationToken cancellationToken)
    {
        BlobSidecar? properties = null;
        try
        {
            properties = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(location.Sidecar, cancellationToken), BlobSidecarJson.Default.BlobSidecar);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // A blob without readable properties (copied in by hand, or its sidecar lost) still reads, under
            // defaults and an ETag that changes whenever the file does.
        }

        properties ??= new BlobSidecar(DefaultContentType, $"\"{lastWriteUtc.Ticks:x}-{length:x}\"", new DateTimeOffset(lastWriteUtc, TimeSpan.Zero));
        return new BlobInfo(container, name, length, properties.ContentType, properties.ETag, properties.LastModified);
    }

    /// <summary>Blob names under <paramref name="folder"/> that start with <paramref name="prefix"/>, in ordinal order, read one folder at a time.</summary>
    /// <remarks>
    /// Sorting each folder with '/' appended to sub-folder names yields full names in ordinal order: 'a-b' (0x2D)
    /// comes before everything in 'a/' (0x2F), which comes before 'a0'.
    /// </remarks>
    private static IEnumerable<string> EnumerateNames(string folder, string relative, string prefix)
    {
        foreach (var (key, path, isFolder) in ReadFolder(folder))
        {
            var candidate = relative + key;
            if (!isFolder)
            {
                if (candidate.StartsWith(prefix, StringComparison.Ordinal))
                {
                    yield return candidate;
                }
            }
            else if (candidate.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(candidate, StringComparison.Ordinal))
            {
                foreach (var name in EnumerateNames(path, candidate, prefix))
                {
                    yield return name;
                }
            }
        }
    }

    private static List<(string Key, string Path, bool IsFolder)> ReadFolder(string folder)
    {
        try
        {
            var entries = new DirectoryInfo(folder)
                .EnumerateFileSystemInfos()
                .Select(e => e is DirectoryInfo ? (e.Name + "/", e.FullName, true) : (e.Name, e.FullName, false))
                .ToList();
            entries.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
            return entries;
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static void PruneEmptyFolders(string path, string root)
    {
        for (var folder = Path.GetDirectoryName(path); folder is not null && folder.Length > root.Length; folder = Path.GetDirectoryName(folder))
        {
            if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any())
            {
                return;
            }

            Directory.Delete(folder);
        }
    }

    private sealed record Location(string Content, string Sidecar, string ContentRoot, string SidecarRoot);
}

/// <summary>A blob's properties as its sidecar file stores them.</summary>
internal sealed record BlobSidecar(string ContentType, string ETag, DateTimeOffset LastModified);

[JsonSerializable(typeof(BlobSidecar))]
internal sealed partial class BlobSidecarJson : JsonSerializerContext;
