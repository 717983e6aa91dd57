using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Credits;

/// <summary>
/// Credits (AutoGPT's): a balance per user, paid into by admins (GRANT, TOP_UP, REFUND) and, when
/// <c>Credits__Enabled</c>, paid out of by model calls (USAGE) through the gateway's <see cref="IModelSpending"/> port.
/// </summary>
internal static class CreditsFeature
{
    public static IServiceCollection AddCredits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CreditsOptions>().Bind(configuration.GetSection(CreditsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CreditLedger>();
        services.AddSingleton<CreditGate>();
        services.AddSingleton<IModelSpending>(sp => sp.GetRequiredService<CreditGate>());
        return services;
    }

    public static IEndpointRouteBuilder MapCredits(this IEndpointRouteBuilder app)
    {
        var credits = app.MapGroup("/api/v1/credits").WithTags("Credits");
        credits.MapGet("", GetCredits.HandleAsync).WithName("GetCredits")
            .WithSummary("The caller's credit balance: balance, reserved (held by model calls in flight), available, creditsPerUsd, enabled")
            .RequireScope(Scopes.UsageRead).Returns<CreditBalanceDto>();
        credits.MapGet("/transactions", ListCreditTransactions.MineAsync).WithName("ListCreditTransactions")
            .WithSummary("The caller's credit transactions, newest first (type=TOP_UP|USAGE|GRANT|REFUND; cursor or page paging)")
            .RequireScope(Scopes.UsageRead).Returns<IReadOnlyList<CreditTransactionDto>>().Errors(422);

        var admin = app.MapGroup("/api/v1/admin/credits").WithTags("Admin");
        admin.MapGet("", ListCreditBalances.HandleAsync).WithName("ListCreditBalances")
            .WithSummary("Platform admins: the credit balances of users who have an account (cursor or page paging)")
            .RequirePlatformAdmin().Returns<IReadOnlyList<CreditBalanceDto>>().Errors(403, 422);
        admin.MapPost("", AdjustCredits.HandleAsync).WithName("AdjustCredits")
            .WithSummary("Platform admins: add credits to a user {userId, amount, reason, type: GRANT (default)|TOP_UP|REFUND}; a negative amount takes them away, never below zero (409)")
            .RequirePlatformAdmin().Returns<AdjustCredits.Response>(201).Errors(403, 404, 409, 422);
        admin.MapGet("/transactions", ListCreditTransactions.AllAsync).WithName("ListAllCreditTransactions")
            .WithSummary("Platform admins: every user's credit transactions, newest first (userId, type; cursor or page paging)")
            .RequirePlatformAdmin().Returns<IReadOnlyList<CreditTransactionDto>>().Errors(403, 422);
        return app;
    }
}
