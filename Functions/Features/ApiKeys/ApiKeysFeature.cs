using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class ApiKeysFeature
{
    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<IApiKeyAuthenticator>(sp => sp.GetRequiredService<ApiKeyStore>());
        return services;
    }

    public static IEndpointRouteBuilder MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/user/api-keys").WithTags("API keys");
        group.MapGet("/", ListApiKeys.HandleAsync).WithName("ListApiKeys")
            .WithSummary("List the caller's API keys (prefix, scopes, last use; never the secret)")
            .RequireScope(Scopes.ApiKeysRead).Returns<IReadOnlyList<ApiKeyDto>>().Errors(422);
        group.MapPost("/", CreateApiKey.HandleAsync).WithName("CreateApiKey")
            .WithSummary("Create an API key bound to the current workspace; the secret is returned once")
            .RequireScope(Scopes.ApiKeysWrite).RequireWorkspace().Returns<CreatedApiKeyDto>(201).Errors(403, 404, 422);
        group.MapDelete("/{id}", DeleteApiKey.HandleAsync).WithName("DeleteApiKey")
            .WithSummary("Revoke one of the caller's API keys")
            .RequireScope(Scopes.ApiKeysWrite).Produces(204).Errors(404);
        return app;
    }
}

internal sealed record ApiKeyDto(
    string Id, string Name, string Prefix, IReadOnlyList<string> Scopes, string WorkspaceId,
    DateTimeOffset? ExpiresAt, int? RateLimitPerMinute, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt,
    IReadOnlyList<string>? AllowedModels, int? ModelRequestsPerMinute, int? ModelTokensPerMinute, decimal? MonthlyBudgetUsd)
{
    public static ApiKeyDto From(ApiKeyRecord k) =>
        new(k.Id, k.Name, k.Prefix, k.Scopes, k.WorkspaceId, k.ExpiresAt, k.RateLimitPerMinute, k.CreatedAt, k.LastUsedAt,
            k.AllowedModels, k.ModelRequestsPerMinute, k.ModelTokensPerMinute, k.MonthlyBudgetUsd);
}

internal sealed record CreatedApiKeyDto(
    string Id, string Name, string Key, string Prefix, IReadOnlyList<string> Scopes, string WorkspaceId,
    DateTimeOffset? ExpiresAt, int? RateLimitPerMinute, DateTimeOffset CreatedAt,
    IReadOnlyList<string>? AllowedModels, int? ModelRequestsPerMinute, int? ModelTokensPerMinute, decimal? MonthlyBudgetUsd);
