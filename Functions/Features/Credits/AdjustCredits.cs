using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Credits;

/// <summary>
/// <c>POST /api/v1/admin/credits</c> <c>{userId, amount, reason, type?}</c>: a GRANT by default (or TOP_UP, REFUND);
/// a negative amount takes credits away, but never more than the user has available (409).
/// </summary>
internal static class AdjustCredits
{
    public const long MaxAmount = 1_000_000_000;

    internal sealed record Request(string? UserId, long? Amount, string? Reason, string? Type);

    internal sealed record Response(CreditTransactionDto Transaction, CreditBalanceDto Balance);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, CreditLedger ledger, IUserLookup users, IOptionsMonitor<CreditsOptions> options, TimeProvider time,
        ILogger<CreditLedger> logger, CancellationToken cancellationToken)
    {
        var type = request.Type ?? CreditTypes.Grant;
        var check = new Validator()
            .Require("userId", request.UserId)
            .When(request.Amount is null, "amount", "amount is required (a whole number of credits).")
            .When(request.Amount is 0, "amount", "amount must not be zero.")
            .When(request.Amount is { } a && Math.Abs(a) > MaxAmount, "amount", $"amount must be between -{MaxAmount} and {MaxAmount}.")
            .Require("reason", request.Reason, 500)
            .When(!CreditTypes.Adjustments.Contains(type, StringComparer.Ordinal), "type", $"type must be one of: {string.Join(", ", CreditTypes.Adjustments)}.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (!Orchestrations.Ports.StoreKeys.IsValidKey(request.UserId!) || await users.FindByIdAsync(request.UserId!, cancellationToken) is null)
        {
            return Api.NotFound("The user was not found.");
        }

        var amount = request.Amount!.Value;
        var write = await ledger.AdjustAsync(request.UserId!, amount, type, request.Reason!.Trim(), caller.UserId, cancellationToken);
        var now = time.GetUtcNow();
        if (write.Status == CreditWriteStatus.Refused)
        {
            return Api.Conflict($"The user has {write.Account.Available(now)} credits available; taking {-amount} would leave the balance below zero.");
        }

        CreditsLog.Adjusted(logger, request.UserId!, amount, type, caller.UserId, write.Account.Balance);
        return Api.Created(new Response(CreditTransactionDto.From(write.Transaction!), CreditBalanceDto.From(write.Account, options.CurrentValue, now)));
    }
}
