using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Workspaces;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Credits;

/// <summary>
/// Pays for model calls from credits when <c>Credits__Enabled</c>. The payer is the calling user (an API key's owner;
/// the user a workflow run acts as, which for schedules and inbound hooks is the trigger's creator); a call made for
/// nobody (a run without a principal, dataset indexing) is paid by the workspace's owner. Before the call its greatest
/// cost is reserved (at least one credit, so an empty balance calls nothing); afterwards the reservation is settled
/// to the cost the usage row records, rounded up to whole credits.
/// </summary>
internal sealed class CreditGate(CreditLedger ledger, WorkspaceDirectory workspaces, IOptionsMonitor<CreditsOptions> options, TimeProvider time,
    ILogger<CreditGate> logger)
    : IModelSpending
{
    public async ValueTask<(SpendingHold? Hold, ModelFailure? Refused)> ReserveAsync(ModelCaller caller, ModelCostEstimate estimate, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (!o.Enabled)
        {
            return (null, null);
        }

        var payer = caller.UserId ?? (await workspaces.GetAsync(caller.WorkspaceId, cancellationToken))?.OwnerId;
        if (payer is null)
        {
            CreditsLog.NoPayer(logger, caller.WorkspaceId);
            return (null, ModelFailure.Quota(402, "There is no user whose credits could pay for this model call.", null));
        }

        var amount = Math.Max(1, o.ToCredits(estimate.MaxCostUsd(o.ReserveCompletionTokens)));
        var holdId = Secrets.NewId("hold");
        var reserved = await ledger.ReserveAsync(payer, holdId, amount, cancellationToken);
        if (reserved.Status == CreditWriteStatus.Refused)
        {
            var available = reserved.Account.Available(time.GetUtcNow());
            CreditsLog.Refused(logger, payer, amount, available);
            return (null, ModelFailure.Quota(402,
                $"Not enough credits: this call may cost up to {amount} credits and {Math.Max(0, available)} are available. Ask an admin for more credits.", null));
        }

        return (new SpendingHold(payer, holdId, amount), null);
    }

    public async ValueTask SettleAsync(SpendingHold hold, UsageRecord? usage)
    {
        var o = options.CurrentValue;
        var cost = usage is null ? 0 : o.ToCredits(usage.CostUsd);
        var transaction = new CreditTransaction(
            "use-" + (usage?.Id ?? hold.HoldId), hold.PayerId, CreditTypes.Usage, 0, 0, usage is null ? null : $"{usage.Operation} {usage.Model}", null,
            usage?.CreatedAt ?? time.GetUtcNow(), usage?.WorkspaceId, usage?.Model, usage?.Id, usage?.CostUsd);
        try
        {
            // Not the caller's token: a client that went away after the call still pays for it.
            await ledger.SettleAsync(hold.PayerId, hold.HoldId, cost, transaction, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // The hold lapses after Credits__ReservationMinutes; the caller already has the answer.
            CreditsLog.SettleFailed(logger, exception, hold.HoldId, hold.PayerId);
        }
    }
}
