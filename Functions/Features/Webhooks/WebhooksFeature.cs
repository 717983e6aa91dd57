using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>Outbound webhooks: a workspace's subscriptions to platform events, signed deliveries with retries, their history.</summary>
internal static class WebhooksFeature
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhooksOptions>().Bind(configuration.GetSection(WebhooksOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WebhookGuard>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddSingleton<DeliverWebhook>();
        services.AddSingleton<IPlatformEventHandler, WebhookEventHandler>();
        services.AddTriggerFunctions<WebhooksFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks");
        group.MapGet("/", ListWebhooks.HandleAsync).WithName("ListWebhooks")
            .WithSummary("List the workspace's webhooks (never their secrets): search, sortBy createdAt|url; cursor or page")
            .RequireScope(Scopes.WebhooksRead).RequireWorkspace(WorkspaceRole.Admin).Returns<IReadOnlyList<WebhookDto>>().Errors(403, 422);
        group.MapPost("/", CreateWebhook.HandleAsync).WithName("CreateWebhook")
            .WithSummary("Create a webhook {url, events[], secret?, description?, active}; the signing secret (generated when not given) is returned once")
            .RequireScope(Scopes.WebhooksWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<CreatedWebhookDto>(201).Errors(400, 403, 409, 422);
        group.MapGet("/{id}", GetWebhook.HandleAsync).WithName("GetWebhook")
            .WithSummary("One webhook, with disabledReason when failures disabled it")
            .RequireScope(Scopes.WebhooksRead).RequireWorkspace(WorkspaceRole.Admin).Returns<WebhookDto>().Errors(403, 404);
        group.MapPut("/{id}", UpdateWebhook.HandleAsync).WithName("UpdateWebhook")
            .WithSummary("Change any subset of a webhook's fields (a new secret replaces the old; active: true re-enables a disabled webhook)")
            .RequireScope(Scopes.WebhooksWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<WebhookDto>().Errors(400, 403, 404, 422);
        group.MapDelete("/{id}", DeleteWebhook.HandleAsync).WithName("DeleteWebhook")
            .WithSummary("Delete a webhook").RequireScope(Scopes.WebhooksWrite).RequireWorkspace(WorkspaceRole.Admin).Produces(204).Errors(403, 404);
        group.MapGet("/{id}/deliveries", ListWebhookDeliveries.HandleAsync).WithName("ListWebhookDeliveries")
            .WithSummary("The webhook's deliveries, newest first: status pending|delivered|failed|retrying; cursor or page")
            .RequireScope(Scopes.WebhooksRead).RequireWorkspace(WorkspaceRole.Admin).Returns<IReadOnlyList<DeliveryDto>>().Errors(403, 404, 422);
        group.MapPost("/{id}/deliveries/{deliveryId}/redeliver", RedeliverWebhookDelivery.HandleAsync).WithName("RedeliverWebhookDelivery")
            .WithSummary("Deliver again now (a new attempt, with its own retries)")
            .RequireScope(Scopes.WebhooksWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<DeliveryDto>(202).Errors(403, 404);
        group.MapPost("/{id}/test", TestWebhook.HandleAsync).WithName("TestWebhook")
            .WithSummary("Send a webhook.test event to this webhook alone (also while it is disabled); the reply names the delivery")
            .RequireScope(Scopes.WebhooksWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<TestWebhook.Reply>(202).Errors(403, 404);
        return app;
    }
}
