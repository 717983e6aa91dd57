using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class CreateIntegration
{
    public static async Task<IResult> HandleAsync(
        IntegrationRequest request, Caller caller, WorkspaceContext workspace, IntegrationStore store, IntegrationGuard guard, CredentialExpiries expiries, TimeProvider time,
        ILogger<IntegrationStore> logger, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var provider = IntegrationProviders.Find(request.Provider);
        var check = new Validator()
            .When(provider is null, "provider", $"provider must be one of: {IntegrationInput.KnownProviders} (GET /api/v1/integrations/providers).")
            .Require("name", request.Name, IntegrationInput.MaxNameLength)
            .When(request.Credentials is null, "credentials", "credentials must be an object holding the provider's fields.")
            .When(request.ExpiresAt <= now, "expiresAt", "expiresAt must be in the future.");
        if (provider is null)
        {
            return check.ToResult();
        }

        var values = IntegrationInput.Apply(check, provider, request.Credentials, new Dictionary<string, string>());
        if (!IntegrationInput.CheckValues(check, provider, values).IsValid)
        {
            return check.ToResult();
        }

        if (await guard.CheckBaseUrlAsync(values, cancellationToken) is { } refused)
        {
            return refused;
        }

        if ((await store.ListAsync(workspace.WorkspaceId, cancellationToken)).Count >= IntegrationStore.MaxPerWorkspace)
        {
            return Api.Conflict($"A workspace has at most {IntegrationStore.MaxPerWorkspace} stored credentials.");
        }

        var id = Secrets.NewId("cred");
        var (fields, secrets) = IntegrationInput.Split(provider, values);
        var integration = new IntegrationRecord(id, provider.Id, request.Name!.Trim(), fields, [.. secrets.Keys.Order(StringComparer.Ordinal)],
            store.Seal(workspace.WorkspaceId, id, secrets), 1, CredentialStatus.Active, request.ExpiresAt, null, null, null, null, null, caller.UserId, now, now);
        await store.InsertAsync(workspace.WorkspaceId, integration, cancellationToken);
        await expiries.ScheduleAsync(workspace.WorkspaceId, integration, cancellationToken);
        IntegrationsLog.Created(logger, id, provider.Id, workspace.WorkspaceId);
        return Api.Created(IntegrationDto.From(integration, now), $"/api/v1/integrations/{id}");
    }
}
