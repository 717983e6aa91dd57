using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Triggers;

/// <summary>Timer: deletes expired refresh tokens, token families, mailed tokens and idempotency records.</summary>
internal sealed class CleanupExpiredRecords(Expirations expirations)
{
    private const int Batch = 500;

    /// <summary>Deletes until nothing due is left; returns how many records went.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await expirations.DeleteDueAsync(Batch, cancellationToken);
            total += deleted;
        }
        while (deleted > 0);

        return total;
    }
}
