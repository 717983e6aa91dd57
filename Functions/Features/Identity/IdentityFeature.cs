using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Identity.Admin;
using Serverless.Functions.Features.Identity.OAuth;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class IdentityFeature
{
    public static IServiceCollection AddIdentityFeature(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OAuthOptions>().Bind(configuration.GetSection(OAuthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OAuthOptions>, OAuthOptionsValidator>();
        services.AddSingleton<UserAccounts>();
        services.AddSingleton<OAuthStates>();
        services.AddSingleton<ExternalIdentities>();
        services.AddSingleton<OAuthClient>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<IUserLookup>(sp => sp.GetRequiredService<UserDirectory>());
        services.AddSingleton<DisabledUsers>();
        services.AddSingleton<IUserStatus>(sp => sp.GetRequiredService<DisabledUsers>());
        services.AddSingleton<Sessions>();
        services.AddSingleton<OneTimeTokens>();
        return services;
    }

    public static IEndpointRouteBuilder MapIdentity(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/v1/auth").WithTags("Auth");
        auth.MapPost("/register", Register.HandleAsync).WithName("Register")
            .WithSummary("Register a user; creates their personal workspace (the first user becomes platform admin)")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<UserDto>(201).Errors(409, 422, 429);
        auth.MapPost("/login", Login.HandleAsync).WithName("Login")
            .WithSummary("Sign in with email or username and password")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<SessionDto>().Errors(401, 403, 422, 429);
        auth.MapPost("/refresh", RefreshSession.HandleAsync).WithName("RefreshSession")
            .WithSummary("Rotate a refresh token for a new token pair (reuse of a rotated token revokes the session)")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<SessionDto>().Errors(401, 422, 429);
        auth.MapPost("/logout", Logout.HandleAsync).WithName("Logout")
            .WithSummary("End the session a refresh token belongs to")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Produces(204).Errors(422);
        auth.MapPost("/forgot-password", ForgotPassword.HandleAsync).WithName("ForgotPassword")
            .WithSummary("Mail a password-reset link (always 202, whether or not the email is registered)")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<MessageDto>(202).Errors(422, 429);
        auth.MapPost("/reset-password", ResetPassword.HandleAsync).WithName("ResetPassword")
            .WithSummary("Set a new password with a reset token; ends every session of the user")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<MessageDto>().Errors(400, 422, 429);
        auth.MapPost("/verify-email", VerifyEmail.HandleAsync).WithName("VerifyEmail")
            .WithSummary("Confirm an email address with the token mailed at registration")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<UserDto>().Errors(400, 422, 429);
        auth.MapGet("/me", GetMe.HandleAsync).WithName("GetMe")
            .WithSummary("The calling user, how they authenticated and their scopes")
            .RequireScope(Scopes.ProfileRead).Returns<MeDto>().Errors(401, 403);
        auth.MapGet("/scopes", ListScopes.Handle).WithName("ListScopes")
            .WithSummary("The scopes an API key can hold")
            .AllowAnonymous().Returns<IReadOnlyList<ScopeInfo>>();

        var oauth = app.MapGroup("/api/v1/oauth").WithTags("Auth");
        oauth.MapGet("/{provider}/login", StartOAuthSignIn.HandleAsync).WithName("StartOAuthSignIn")
            .WithSummary("Redirect to the provider's sign-in (state, PKCE S256, nonce kept server-side); redirect_uri must be an allowed frontend URI")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Produces(302).Errors(404, 422, 429);
        oauth.MapGet("/{provider}/callback", CompleteOAuthSignIn.HandleAsync).WithName("CompleteOAuthSignIn")
            .WithSummary("The provider's return: exchange the code, link or create the user, redirect to the frontend with a one-time ?code= (or ?error=)")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Produces(302).Errors(400, 404, 429);
        oauth.MapPost("/token", ExchangeOAuthCode.HandleAsync).WithName("ExchangeOAuthCode")
            .WithSummary("Trade the one-time sign-in code for an access and a refresh token")
            .AllowAnonymous().WithRateLimitClass(RateLimitClass.Auth).Returns<SessionDto>().Errors(400, 422, 429);

        var user = app.MapGroup("/api/v1/user").WithTags("User");
        user.MapGet("/identities", ListIdentities.HandleAsync).WithName("ListIdentities")
            .WithSummary("The provider accounts linked to the caller, and whether a password is set").RequireScope(Scopes.ProfileRead).Returns<IdentitiesDto>();
        user.MapDelete("/identities/{provider}", UnlinkIdentity.HandleAsync).WithName("UnlinkIdentity")
            .WithSummary("Unlink a provider account (never the last way to sign in)").RequireScope(Scopes.ProfileWrite).Produces(204).Errors(404, 409);
        user.MapGet("/profile", GetProfile.HandleAsync).WithName("GetProfile")
            .WithSummary("Read the caller's profile").RequireScope(Scopes.ProfileRead).Returns<UserDto>();
        user.MapPut("/profile", UpdateProfile.HandleAsync).WithName("UpdateProfile")
            .WithSummary("Change any of name, lastname, username").RequireScope(Scopes.ProfileWrite).Returns<UserDto>().Errors(409, 422);
        user.MapGet("/settings", GetSettings.HandleAsync).WithName("GetSettings")
            .WithSummary("Read the caller's settings").RequireScope(Scopes.ProfileRead).Returns<UserSettings>();
        user.MapPut("/settings", UpdateSettings.HandleAsync).WithName("UpdateSettings")
            .WithSummary("Change any of theme, language, timezone, emailNotifications").RequireScope(Scopes.ProfileWrite).Returns<UserSettings>().Errors(422);

        var admin = app.MapGroup("/api/v1/admin/users").WithTags("Admin");
        admin.MapGet("", ListPlatformUsers.HandleAsync).WithName("ListPlatformUsers")
            .WithSummary("Platform admins: every user, with whether they are disabled (search on email, username, name; cursor or page paging)")
            .RequirePlatformAdmin().Returns<IReadOnlyList<AdminUserDto>>().Errors(403, 422);
        admin.MapPost("/{id}/disable", SetUserDisabled.DisableAsync).WithName("DisableUser")
            .WithSummary("Platform admins: disable a user (not yourself): no sign-in or refresh, their sessions end, their tokens and API keys are refused")
            .RequirePlatformAdmin().Returns<AdminUserDto>().Errors(403, 404, 409);
        admin.MapPost("/{id}/enable", SetUserDisabled.EnableAsync).WithName("EnableUser")
            .WithSummary("Platform admins: enable a disabled user again (they sign in anew; their API keys work again)")
            .RequirePlatformAdmin().Returns<AdminUserDto>().Errors(403, 404);
        return app;
    }
}

internal sealed record UserDto(
    string Id, string? Email, string? Username, string? Name, string? Lastname,
    bool EmailVerified, bool IsPlatformAdmin, string PersonalWorkspaceId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static UserDto From(UserRecord u) =>
        new(u.Id, u.Email, u.Username, u.Name, u.Lastname, u.EmailVerified, u.IsPlatformAdmin, u.PersonalWorkspaceId, u.CreatedAt, u.UpdatedAt);
}

internal sealed record SessionDto(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, UserDto User)
{
    public static SessionDto From(SessionTokens tokens, UserRecord user) =>
        new(tokens.AccessToken, tokens.RefreshToken, "Bearer", tokens.ExpiresIn, UserDto.From(user));
}

internal sealed record MeDto(UserDto User, string AuthMethod, string? ApiKeyId, string? WorkspaceId, IReadOnlyList<string> Scopes);

internal sealed record MessageDto(string Message);
