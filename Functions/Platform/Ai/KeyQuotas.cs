using System.Collections.Concurrent;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Platform.Ai;

/// <summary>What an API key may do with models: which ones, how much per minute, how much per calendar month (UTC).</summary>
internal sealed record ModelLimits(IReadOnlyList<string>? AllowedModels, int? RequestsPerMinute, int? TokensPerMinute, decimal? MonthlyBudgetUsd)
{
    public bool Allows(string modelId) => AllowedModels is null || AllowedModels.Contains(modelId, StringComparer.Ordinal);
}

/// <summary>
/// Per-key model quotas, checked before any upstream call. Requests and tokens per minute are counted in this
/// instance's memory (like the route rate limits); the month's spend starts from the usage rows already stored
/// for the key and adds what this instance records, so a restart never forgets spend.
/// </summary>
internal sealed class KeyQuotas(RateLimiter limiter, UsageLedger ledger, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenWindow> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<MonthSpend>>> _spend = new(StringComparer.Ordinal);

    public async Task<ModelFailure?> CheckAsync(ModelCaller caller, CancellationToken cancellationToken)
    {
        if (caller.Limits is not { } limits || caller.ApiKeyId is not { } keyId)
        {
            return null;
        }

        if (limits.RequestsPerMinute is { } rpm)
        {
            var decision = limiter.Acquire("model-requests:" + keyId, rpm);
            if (!decision.Allowed)
            {
                return ModelFailure.Quota(429, $"This API key's limit of {rpm} model requests per minute is reached.", decision.RetryAfterSeconds);
            }
        }

        var now = time.GetUtcNow();
        if (limits.TokensPerMinute is { } tpm && _tokens.TryGetValue(keyId, out var window) && window.Used(now) >= tpm)
        {
            return ModelFailure.Quota(429, $"This API key's limit of {tpm} tokens per minute is reached.", 60 - now.Second);
        }

        if (limits.MonthlyBudgetUsd is { } budget)
        {
            var spend = await SpendAsync(caller.WorkspaceId, keyId, now, cancellationToken);
            if (spend.Total >= budget)
            {
                return ModelFailure.Quota(402, $"This API key's monthly budget of {budget} USD is used up.", null);
            }
        }

        return null;
    }

    /// <summary>Counts a finished call against the key.</summary>
    public void Add(UsageRecord usage)
    {
        if (usage.ApiKeyId is not { } keyId)
        {
            return;
        }

        _tokens.GetOrAdd(keyId, _ => new TokenWindow()).Add(usage.CreatedAt, usage.TotalTokens);
        if (_spend.TryGetValue(SpendKey(keyId, usage.CreatedAt), out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            lazy.Value.Result.Add(usage.CostUsd);
        }
    }

    private Task<MonthSpend> SpendAsync(string workspaceId, string keyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = SpendKey(keyId, now);
        var lazy = _spend.GetOrAdd(key, _ => new Lazy<Task<MonthSpend>>(() => LoadAsync(workspaceId, keyId, now)));
        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            _spend.TryRemove(new KeyValuePair<string, Lazy<Task<MonthSpend>>>(key, lazy));
        }

        return task.WaitAsync(cancellationToken);
    }

    private async Task<MonthSpend> LoadAsync(string workspaceId, string keyId, DateTimeOffset now)
    {
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var spent = 0m;
        await foreach (var row in ledger.ReadAsync(workspaceId, monthStart, monthStart.AddMonths(1), ("apiKey", keyId), CancellationToken.None))
        {
            spent += row.CostUsd;
        }

        return new MonthSpend(spent);
    }

    private static string SpendKey(string keyId, DateTimeOffset at) => $"{keyId}|{at.UtcDateTime:yyyy-MM}";

    private sealed class MonthSpend(decimal baseline)
    {
        private readonly Lock _lock = new();
        private decimal _total = baseline;

        public decimal Total
        {
            get
            {
                lock (_lock)
                {
                    return _total;
                }
            }
        }

        public void Add(decimal cost)
        {
            lock (_lock)
            {
                _total += cost;
            }
        }
    }

    private sealed class TokenWindow
    {
        private readonly Lock _lock = new();
        private long _minute;
        private long _tokens;

        public long Used(DateTimeOffset now)
        {
            lock (_lock)
            {
                return _minute == now.ToUnixTimeSeconds() / 60 ? _tokens : 0;
            }
        }

        public void Add(DateTimeOffset at, int tokens)
        {
            lock (_lock)
            {
                var minute = at.ToUnixTimeSeconds() / 60;
                if (minute != _minute)
                {
                    _minute = minute;
                    _tokens = 0;
                }

                _tokens += tokens;
            }
        }
    }
}
