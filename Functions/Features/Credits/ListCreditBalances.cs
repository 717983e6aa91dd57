using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Credits;

/// <summary><c>GET /api/v1/admin/credits</c>: the balances of users who have an account, a page at a time (one read per user listed).</summary>
internal static class ListCreditBalances
{
    public static async Task<IResult> HandleAsync(
        ListQuery query, CreditLedger ledger, IOptionsMonitor<CreditsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (query.Check() is { } invalid)
        {
            return invalid;
        }

        if (await ledger.ListAccountsAsync(query, cancellationToken) is not { } page)
        {
            return IndexedPaging.InvalidCursor();
        }

        var now = time.GetUtcNow();
        var accounts = await Task.WhenAll(page.Items.Select(entry => ledger.GetAsync(entry.UserId, cancellationToken)));
        return Api.Page(new PageResult<CreditBalanceDto>(
            [.. accounts.Select(a => CreditBalanceDto.From(a, options.CurrentValue, now))], page.Pagination, page.Total, page.PageNumber));
    }
}
