using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Credits;

/// <summary><c>GET /api/v1/credits</c>: the caller's balance.</summary>
internal static class GetCredits
{
    public static async Task<IResult> HandleAsync(
        Caller caller, CreditLedger ledger, IOptionsMonitor<CreditsOptions> options, TimeProvider time, CancellationToken cancellationToken) =>
        Api.Ok(CreditBalanceDto.From(await ledger.GetAsync(caller.UserId, cancellationToken), options.CurrentValue, time.GetUtcNow()));
}
