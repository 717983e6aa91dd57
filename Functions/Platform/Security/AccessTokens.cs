using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Serverless.Functions.Platform.Security;

/// <summary>Short-lived JWT access tokens (HS256) for user sessions.</summary>
internal sealed class AccessTokens
{
    private const string PersonalWorkspaceClaim = "pws";
    private const string AdminClaim = "adm";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly AuthOptions _options;
    private readonly SigningKeys _keys;
    private readonly TimeProvider _time;
    private readonly TokenValidationParameters _validation;

    public AccessTokens(IOptions<AuthOptions> options, SigningKeys keys, TimeProvider time)
    {
        _options = options.Value;
        _keys = keys;
        _time = time;
        _validation = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKey = keys.Key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            RequireExpirationTime = true,
            ValidateLifetime = true,
            LifetimeValidator = ValidateLifetime,
        };
    }

    public TimeSpan Lifetime => TimeSpan.FromMinutes(_options.AccessTokenMinutes);

    public string Issue(string userId, string personalWorkspaceId, bool isPlatformAdmin)
    {
        var now = _time.GetUtcNow();
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(_keys.Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                [PersonalWorkspaceClaim] = personalWorkspaceId,
                [AdminClaim] = isPlatformAdmin,
            },
        });
    }

    public async ValueTask<Caller?> ValidateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid
            || !result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var sub) || sub is not string userId
            || !result.Claims.TryGetValue(PersonalWorkspaceClaim, out var pws) || pws is not string workspaceId)
        {
            return null;
        }

        var admin = result.Claims.TryGetValue(AdminClaim, out var adm) && adm is true;
        return new Caller(userId, workspaceId, admin, ApiKeyId: null, BoundWorkspaceId: null, KeyScopes: null, RateLimitPerMinute: null);
    }

    // The library's own check reads the system clock; ours reads the injected one, like the rest of the app.
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return expires is { } exp && exp + parameters.ClockSkew > now && (notBefore is not { } nbf || nbf - parameters.ClockSkew <= now);
    }
}

internal static class ClaimsPrincipals
{
    public static ClaimsPrincipal For(Caller caller, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, caller.UserId)], scheme));
}
