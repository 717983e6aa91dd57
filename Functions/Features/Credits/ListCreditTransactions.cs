using Microsoft.AspNetCore.Mvc;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Credits;

/// <summary>
/// <c>GET /api/v1/credits/transactions</c> (the caller's) and <c>GET /api/v1/admin/credits/transactions</c> (everyone's,
/// or one user's with <c>userId</c>): newest first, <c>type</c> narrows to one kind, cursor or page paging.
/// </summary>
internal static class ListCreditTransactions
{
    public static Task<IResult> MineAsync(
        Caller caller, ListQuery query, [FromQuery(Name = "type")] string? type, CreditLedger ledger, CancellationToken cancellationToken) =>
        ListAsync(caller.UserId, query, type, ledger, cancellationToken);

    public static Task<IResult> AllAsync(
        ListQuery query, [FromQuery(Name = "userId")] string? userId, [FromQuery(Name = "type")] string? type, CreditLedger ledger, CancellationToken cancellationToken) =>
        ListAsync(string.IsNullOrEmpty(userId) ? null : userId, query, type, ledger, cancellationToken);

    private static async Task<IResult> ListAsync(string? userId, ListQuery query, string? type, CreditLedger ledger, CancellationToken cancellationToken)
    {
        if (query.Check() is { } invalid)
        {
            return invalid;
        }

        if (type is not null && !CreditTypes.All.Contains(type, StringComparer.Ordinal))
        {
            return Api.Validation("type", $"type must be one of: {string.Join(", ", CreditTypes.All)}.");
        }

        // An id no partition can have (a character the store forbids) names a user without transactions.
        if (userId is not null && !Orchestrations.Ports.StoreKeys.IsValidKey(userId))
        {
            return Api.Page(new PageResult<CreditTransactionDto>([], new Pagination(false, null, query.Limit), null, query.Page));
        }

        var page = userId is null
            ? await ledger.ListAllAsync(query, type, cancellationToken)
            : await ledger.ListAsync(userId, query, type, cancellationToken);
        return page is null ? IndexedPaging.InvalidCursor() : Api.Page(page.Map(CreditTransactionDto.From));
    }
}
