using Microsoft.Extensions.Caching.Memory;
using Serverless.Functions.Features.Workflows;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Store;

/// <summary>
/// Counts a run for a listing when a run of a workflow added from it ends (whatever its outcome, a stop included). The
/// workflow's mark is read once a minute per workflow (a burst of runs costs one read); a run counts once even when its end
/// is reported twice. No run is ever scanned to answer a listing read.
/// </summary>
internal sealed class StoreRunCounter(StoreData data, WorkflowStore workflows, IMemoryCache cache, ILogger<StoreRunCounter> logger) : IRunCompletionListener
{
    private static readonly TimeSpan MarkLifetime = TimeSpan.FromMinutes(1);

    private sealed record Mark(string? ListingId);

    public async Task OnRunEndedAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        var key = ("store-listing-of", run.WorkspaceId, run.WorkflowId);
        if (!cache.TryGetValue(key, out Mark? mark) || mark is null)
        {
            mark = new Mark((await workflows.GetAsync(run.WorkspaceId, run.WorkflowId, cancellationToken))?.Value.StoreListingId);
            cache.Set(key, mark, MarkLifetime);
        }

        if (mark.ListingId is not { } listingId)
        {
            return;
        }

        try
        {
            if (await data.MarkRunAsync(listingId, run.Id, cancellationToken))
            {
                await data.ChangeListingAsync(listingId, l => l is null ? null : l with { Runs = l.Runs + 1 }, cancellationToken);
            }
        }
        catch (InvalidOperationException e)
        {
            // A listing under heavy contention loses a count rather than failing the run's end.
            StoreLog.RunNotCounted(logger, e, run.Id, listingId);
        }
    }
}
