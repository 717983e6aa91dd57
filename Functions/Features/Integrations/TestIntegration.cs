using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class TestIntegration
{
    /// <param name="Status">The provider's HTTP status; null when no answer came (or the credential was not sent).</param>
    /// <param name="CredentialStatus">The credential's status after the test (a refusal marks it expired).</param>
    internal sealed record Reply(bool Ok, int? Status, long LatencyMs, string? Error, string CredentialStatus);

    /// <summary>
    /// Makes the provider's test request with the credential. A refusal (401/403, or the provider's own auth error)
    /// marks it expired and records credential.expired once; a success clears a recorded expiry of the same secret.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, IntegrationStore store, CredentialResolver resolver, CredentialTester tester, TimeProvider time,
        ILogger<IntegrationStore> logger, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } integration)
        {
            return GetIntegration.NotFound();
        }

        // Test URLs are rendered from the non-secret fields only: a secret never lands in a URL that way.
        var provider = IntegrationProviders.Find(integration.Provider);
        if (provider?.Test is not { } test || IntegrationProviders.Render(test.Url, integration.Fields, Uri.EscapeDataString) is not { } url)
        {
            return Api.Validation("credentials.testUrl", provider is { IsGeneric: true }
                ? "This credential has no test request: give it a testUrl (PUT /api/v1/integrations/{id})."
                : $"The provider '{integration.Provider}' has no test request.");
        }

        var credential = await resolver.ResolveAsync(workspace.WorkspaceId, id, new Uri(url), cancellationToken);
        var outcome = credential.Refusal is { } refusal
            ? new TestOutcome(false, null, 0, refusal.Message, false)
            : await tester.SendAsync(test, new Uri(url), credential, cancellationToken);
        if (outcome.Rejected)
        {
            await resolver.MarkExpiredAsync(workspace.WorkspaceId, integration, $"Its test request was refused ({outcome.Error})", outcome.Status, cancellationToken);
        }

        var now = time.GetUtcNow();
        var updated = await store.UpdateAsync(workspace.WorkspaceId, id, r =>
        {
            var tested = r with { LastTestedAt = now, LastTestOk = outcome.Ok, LastTestStatus = outcome.Status };
            // The provider accepts this very secret again (a 403 that was about a resource, a revoked grant restored).
            return outcome.Ok && r.SecretVersion == integration.SecretVersion
                ? tested with { Status = CredentialStatus.Active, ExpiredAt = null, ExpiredReason = null }
                : tested;
        }, cancellationToken);
        IntegrationsLog.Tested(logger, id, workspace.WorkspaceId, outcome.Ok, outcome.Status, outcome.LatencyMs);
        return Api.Ok(new Reply(outcome.Ok, outcome.Status, outcome.LatencyMs, outcome.Error, (updated ?? integration).StatusAt(now)));
    }
}
