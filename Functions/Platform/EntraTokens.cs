using System.Collections.Concurrent;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Serverless.Functions.Platform;

/// <summary>
/// Microsoft Entra bearer tokens of the app's identity, one per scope (Storage, Azure OpenAI), reused until five minutes
/// before they expire. The credential's own caching differs between its paths, so the app keeps its own.
/// Tokens are never logged.
/// </summary>
internal sealed class EntraTokenCache(TokenCredential credential, TimeProvider time)
{
    private static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async ValueTask<string> GetTokenAsync(string scope, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(scope, _ => new Entry());
        var token = entry.Token;
        if (NeedsRefresh(token))
        {
            // One refresh per scope at a time: a burst of calls at expiry asks the identity endpoint once.
            await entry.Refresh.WaitAsync(cancellationToken);
            try
            {
                if (NeedsRefresh(entry.Token))
                {
                    entry.Token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken);
                }

                token = entry.Token;
            }
            finally
            {
                entry.Refresh.Release();
            }
        }

        return token.Token;
    }

    private bool NeedsRefresh(AccessToken token) =>
        token.Token is null || token.ExpiresOn - RefreshBefore <= time.GetUtcNow();

    private sealed class Entry
    {
        public SemaphoreSlim Refresh { get; } = new(1, 1);

        public AccessToken Token { get; set; }
    }
}

internal static class EntraSetup
{
    /// <summary>
    /// The app's <see cref="TokenCredential"/> (tests put a fake one in its place) and the token cache over it.
    /// Token lifetimes are wall-clock facts, so the system clock judges them, never a test's moved clock.
    /// </summary>
    public static IServiceCollection AddEntraTokens(this IServiceCollection services)
    {
        services.TryAddSingleton<TokenCredential>(_ => CreateDefaultCredential());
        services.TryAddSingleton(sp => new EntraTokenCache(sp.GetRequiredService<TokenCredential>(), TimeProvider.System));
        return services;
    }

    /// <summary>DefaultAzureCredential: managed identity in Azure (the user-assigned one named by AZURE_CLIENT_ID), the developer's sign-in locally.</summary>
    private static DefaultAzureCredential CreateDefaultCredential()
    {
        var options = new DefaultAzureCredentialOptions();
        if (Environment.GetEnvironmentVariable("AZURE_CLIENT_ID") is { Length: > 0 } clientId)
        {
            options.ManagedIdentityClientId = clientId;
        }

        return new DefaultAzureCredential(options);
    }
}
