using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Platform.Security;

internal sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Base64 HMAC key (≥ 32 bytes). When empty, one is generated once and kept in the data directory.</summary>
    public string? JwtSigningKey { get; set; }

    [Required]
    public string Issuer { get; set; } = "serverless-platform";

    [Required]
    public string Audience { get; set; } = "serverless-platform-api";

    [Range(1, 1440)]
    public int AccessTokenMinutes { get; set; } = 15;

    [Range(1, 365)]
    public int RefreshTokenDays { get; set; } = 30;

    [Range(1, 100)]
    public int LockoutThreshold { get; set; } = 5;

    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>PBKDF2 iterations for password hashes (ASP.NET Core Identity's default is 100,000).</summary>
    [Range(1_000, 10_000_000)]
    public int PasswordHashIterations { get; set; } = 100_000;

    /// <summary>How long an API key lookup is cached in memory; revocation on another instance takes at most this long.</summary>
    [Range(0, 300)]
    public int ApiKeyCacheSeconds { get; set; } = 15;

    /// <summary>How long an instance keeps its copy of the disabled users; disabling on another instance takes at most this long.</summary>
    [Range(0, 300)]
    public int UserStatusCacheSeconds { get; set; } = 15;

    [Range(1, 720)]
    public int EmailVerificationHours { get; set; } = 48;

    [Range(1, 72)]
    public int PasswordResetHours { get; set; } = 1;
}
