using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity.OAuth;

/// <param name="ClientState">The frontend's own <c>state</c>, handed back with the result.</param>
internal sealed record OAuthStateRecord(
    string Provider, string RedirectUri, string? ClientState, string Callback, string CodeVerifier, string Nonce, DateTimeOffset ExpiresAt) : IExpiring;

/// <summary>
/// A sign-in in flight, kept server-side under the hash of its <c>state</c> rather than in a cookie, so the callback
/// may land on any instance. Taking one deletes it conditionally: a state serves one callback, within ten minutes.
/// </summary>
internal sealed class OAuthStates(IEntityStore store, Expirations expirations, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly EntityTable<OAuthStateRecord> _states = new(store, "oauthstates");

    public async Task<string> StartAsync(OAuthStateRecord pending, CancellationToken cancellationToken)
    {
        var state = Secrets.NewToken();
        var hash = Secrets.Hash(state);
        var record = pending with { ExpiresAt = time.GetUtcNow() + Lifetime };
        await _states.InsertAsync(hash, "s", record, cancellationToken);
        await expirations.ScheduleAsync(_states.Name, hash, "s", record.ExpiresAt, cancellationToken);
        return state;
    }

    /// <summary>The sign-in <paramref name="state"/> names, when it is current and for <paramref name="provider"/>; used up either way.</summary>
    public async Task<OAuthStateRecord?> TakeAsync(string provider, string state, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(state);
        var stored = await _states.GetAsync(hash, "s", cancellationToken);
        if (stored is null || !(await _states.DeleteAsync(hash, "s", stored.ETag, cancellationToken)).Succeeded)
        {
            return null;
        }

        return stored.Value.ExpiresAt > time.GetUtcNow() && stored.Value.Provider == provider ? stored.Value : null;
    }
}
