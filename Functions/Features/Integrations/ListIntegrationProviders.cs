using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Integrations;

internal static class ListIntegrationProviders
{
    /// <param name="Fills">The headers and query parameters a credential fills, as templates over its fields.</param>
    /// <param name="Hosts">Where a credential may be sent; empty when it is bound to its own baseUrl (<paramref name="BoundToBaseUrl"/>).</param>
    /// <param name="Test">The request POST /api/v1/integrations/{id}/test makes; null when the provider has none.</param>
    internal sealed record ProviderDto(
        string Id, string Name, string Type, string Description, IReadOnlyList<CredentialField> Fields, FillsDto Fills, IReadOnlyList<string> Hosts,
        bool BoundToBaseUrl, ProviderTest? Test, string? DocsUrl)
    {
        public static ProviderDto From(IntegrationProvider p) => new(p.Id, p.Name, p.Type, p.Description, p.Fields,
            new FillsDto(Templates(p, CredentialFill.Header), Templates(p, CredentialFill.QueryParameter)), p.Hosts, p.IsGeneric, p.Test, p.DocsUrl);

        private static Dictionary<string, string> Templates(IntegrationProvider p, string where) =>
            p.Fills.Where(f => f.In == where).ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);
    }

    internal sealed record FillsDto(IReadOnlyDictionary<string, string> Headers, IReadOnlyDictionary<string, string> Query);

    public static IResult Handle() => Api.Ok(IntegrationProviders.All.Select(ProviderDto.From).ToList());
}
