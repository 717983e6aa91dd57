using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Store;

internal sealed class StoreOptions
{
    public const string Section = "Store";

    /// <summary>Largest image (png, jpeg, gif, webp) a creator may upload.</summary>
    [Range(1024, 100L * 1024 * 1024)]
    public long MaxImageBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Largest video (mp4, webm) a creator may upload.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxVideoBytes { get; set; } = 50 * 1024 * 1024;
}
