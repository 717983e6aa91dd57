namespace Serverless.Functions.Features.Credits;

/// <summary>A balance as users and admins see it: <c>reserved</c> is held by calls in flight, <c>available</c> what new calls may use.</summary>
internal sealed record CreditBalanceDto(string UserId, long Balance, long Reserved, long Available, int CreditsPerUsd, bool Enabled, DateTimeOffset UpdatedAt)
{
    public static CreditBalanceDto From(CreditAccount account, CreditsOptions options, DateTimeOffset now) =>
        new(account.UserId, account.Balance, account.Held(now), account.Available(now), options.CreditsPerUsd, options.Enabled, account.UpdatedAt);
}

internal sealed record CreditTransactionDto(
    string Id, string UserId, string Type, long Amount, long BalanceAfter, string? Reason, string? ActorId, string? WorkspaceId, string? Model,
    string? UsageId, decimal? CostUsd, DateTimeOffset CreatedAt)
{
    public static CreditTransactionDto From(CreditTransaction t) =>
        new(t.Id, t.UserId, t.Type, t.Amount, t.BalanceAfter, t.Reason, t.ActorId, t.WorkspaceId, t.Model, t.UsageId, t.CostUsd, t.CreatedAt);
}
