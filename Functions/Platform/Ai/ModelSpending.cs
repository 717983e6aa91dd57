namespace Serverless.Functions.Platform.Ai;

/// <summary>Funds set aside for one model call until its cost is known; <see cref="IModelSpending.SettleAsync"/> ends it.</summary>
internal sealed record SpendingHold(string PayerId, string HoldId, long Amount);

/// <summary>What a call may cost at most, worked out only when someone asks (credits off: never).</summary>
internal sealed record ModelCostEstimate(Func<int> PromptTokens, int? MaxCompletionTokens, bool Embedding, IReadOnlyList<ProviderModel> Models)
{
    /// <summary>The dearest candidate's price of the prompt plus the most completion tokens the call may produce.</summary>
    public decimal MaxCostUsd(int defaultCompletionTokens)
    {
        var prompt = PromptTokens();
        var completion = Embedding ? 0 : MaxCompletionTokens ?? defaultCompletionTokens;
        return Models.Count == 0 ? 0m : Models.Max(m => m.Cost(prompt, completion));
    }
}

/// <summary>
/// Pays for model calls (the credits feature): before a call goes upstream its greatest cost is reserved from the
/// payer's funds (or the call is refused), and once its usage row exists the reservation is settled to that row's cost.
/// </summary>
internal interface IModelSpending
{
    /// <summary>A hold to settle, or the refusal to return (no hold and no refusal: nothing is charged).</summary>
    ValueTask<(SpendingHold? Hold, ModelFailure? Refused)> ReserveAsync(ModelCaller caller, ModelCostEstimate estimate, CancellationToken cancellationToken);

    /// <summary>Charges the call's recorded cost (<paramref name="usage"/> null: nothing happened, the hold is released). Never throws.</summary>
    ValueTask SettleAsync(SpendingHold hold, UsageRecord? usage);
}

/// <summary>Without the credits feature model calls cost nothing beyond their usage rows.</summary>
internal sealed class FreeModelSpending : IModelSpending
{
    public ValueTask<(SpendingHold? Hold, ModelFailure? Refused)> ReserveAsync(ModelCaller caller, ModelCostEstimate estimate, CancellationToken cancellationToken) =>
        ValueTask.FromResult<(SpendingHold?, ModelFailure?)>((null, null));

    public ValueTask SettleAsync(SpendingHold hold, UsageRecord? usage) => ValueTask.CompletedTask;
}

/// <summary>
/// A call admitted by <see cref="ModelGateway.AdmitAsync"/> for another protocol: refused, or holding its reservation
/// until the call is recorded (or, when it never is — the client went away — until this is disposed).
/// </summary>
internal sealed class ModelAdmission(ModelFailure? refused, SpendingHold? hold, IModelSpending spending) : IAsyncDisposable
{
    private int _settled;

    public ModelFailure? Refused => refused;

    public async ValueTask SettleAsync(UsageRecord? usage)
    {
        if (hold is not null && Interlocked.Exchange(ref _settled, 1) == 0)
        {
            await spending.SettleAsync(hold, usage);
        }
    }

    public ValueTask DisposeAsync() => SettleAsync(null);
}
