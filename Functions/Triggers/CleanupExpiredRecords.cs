using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Triggers;

/// <summary>Timer: deletes expired refresh tokens, token families, mailed tokens and idempotency records.</summary>
internal sealed class CleanupExpiredRecords(Expirations expirations) : ITriggerFunction
{
    private const int Batch = 500;

    public string Name => "CleanupExpiredRecords";

    public async Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await expirations.DeleteDueAsync(Batch, cancellationToken);
            total += deleted;
        }
        while (deleted > 0);

        return new TriggerOutcome([$"Deleted {total} expired records."], new { deleted = total });
    }
}
