using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Platform.Http;

/// <summary>OpenAPI 3.1 at /api/v1/openapi.json and Swagger UI at /api/v1/docs, with both auth schemes.</summary>
internal static class OpenApiSetup
{
    public const string DocumentPath = "/api/v1/openapi.json";
    public const string DocsPrefix = "api/v1/docs";
    private const string BearerScheme = "bearer";
    private const string ApiKeyScheme = "apiKey";

    public static IServiceCollection AddPlatformOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Serverless AI workflow platform API",
                Version = ApiVersion.Current,
                Description = "Native API under /api/v1 (envelopes, cursor or page pagination, Idempotency-Key on POST). "
                    + "Authenticate with Authorization: Bearer <JWT or API key> or X-API-Key: <API key>; pick a workspace with X-Workspace-Id.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
            {
                [BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A JWT access token from /api/v1/auth/login, or an API key (sfk_…).",
                },
                [ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = PlatformAuthenticationHandler.ApiKeyHeader,
                    Description = "An API key (sfk_…).",
                },
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any())
            {
                return Task.CompletedTask;
            }

            var scopes = metadata.OfType<ScopeRequirement>().Select(s => s.Scope).ToList();
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = scopes },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = scopes },
            ];
            if (scopes.Count > 0)
            {
                operation.Description = (operation.Description is null ? "" : operation.Description + "\n\n") + $"API keys need the scope: {string.Join(", ", scopes)}.";
            }

            return Task.CompletedTask;
        });
    });

    public static IApplicationBuilder UsePlatformDocs(this IApplicationBuilder app)
    {
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = DocsPrefix;
            options.SwaggerEndpoint(DocumentPath, "Platform API");
            options.DocumentTitle = "Serverless AI workflow platform API";
        });
        return app;
    }

    public static IEndpointRouteBuilder MapPlatformDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).WithName("GetOpenApiDocument").AllowAnonymous();
        // The docs UI is served by middleware before routing; this route only gives it an HTTP function, so the
        // Functions host forwards /api/v1/docs/* here. Reaching the handler means the UI had no such file.
        app.MapGet("/" + DocsPrefix + "/{**path}", () => Api.NotFound()).WithName("GetApiDocs").AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Documents the success envelope around <typeparamref name="T"/>.</summary>
    public static RouteHandlerBuilder Returns<T>(this RouteHandlerBuilder builder, int status = 200) =>
        builder.Produces<ApiEnvelope<T>>(status);

    /// <summary>Documents the error envelope for each status.</summary>
    public static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<ApiErrorEnvelope>(status);
        }

        return builder;
    }
}
