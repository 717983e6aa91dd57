using Serverless.Functions.Features.Tasks;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// Plugins (FastGPT's plugin API, ForgeTM's manifests): built-in ones and ones a workspace installs from a manifest,
/// run over HTTP, as a workflow, or in process; executed through the API, by the <c>plugin</c> node and by the task assistant.
/// </summary>
internal static class PluginsFeature
{
    public static IServiceCollection AddPlugins(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PluginsOptions>().Bind(configuration.GetSection(PluginsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PluginGuard>();
        services.AddSingleton<PluginHttp>();
        services.AddSingleton<PluginStore>();
        services.AddSingleton<PluginCatalog>();
        services.AddSingleton<PluginRunner>();
        services.AddSingleton<IBuiltinPlugin, WebReaderPlugin>();
        services.AddSingleton<IBuiltinPlugin, JsonTransformPlugin>();
        services.AddSingleton<IBuiltinPlugin, CalculatorPlugin>();
        services.AddSingleton<IBuiltinPlugin, CurrentTimePlugin>();
        services.AddSingleton<IBuiltinPlugin, TextStatsPlugin>();
        services.AddSingleton<INodeType, PluginNode>();
        services.AddSingleton<IAssistantToolSet, PluginAssistantTools>();
        services.AddTriggerFunctions<PluginsFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapPlugins(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/plugins").WithTags("Plugins");
        group.MapGet("/", ListPlugins.HandleAsync).WithName("ListPlugins")
            .WithSummary("The workspace's plugins: built-in ones, then installed ones, each with its manifest, enabled state and granted capabilities")
            .RequireScope(Scopes.PluginsRead).RequireWorkspace().Returns<IReadOnlyList<PluginDto>>();
        group.MapPost("/", InstallPlugin.HandleAsync).WithName("InstallPlugin")
            .WithSummary("Install a plugin from its manifest {manifest, grant?}; the workspace grants what the manifest asks, or the narrower grant")
            .RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<PluginDto>(201).Errors(400, 403, 409, 422);
        group.MapGet("/{id}", GetPlugin.HandleAsync).WithName("GetPlugin")
            .WithSummary("One plugin").RequireScope(Scopes.PluginsRead).RequireWorkspace().Returns<PluginDto>().Errors(404);
        group.MapPut("/{id}", UpgradePlugin.HandleAsync).WithName("UpgradePlugin")
            .WithSummary("Install another version of an installed plugin {manifest, grant?}: config, state and history stay; without grant it keeps the old grant and nothing new; secrets are cleared when it could reach a new host")
            .RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<UpgradePlugin.Response>().Errors(400, 403, 404, 409, 422);
        group.MapDelete("/{id}", DeletePlugin.HandleAsync).WithName("DeletePlugin")
            .WithSummary("Remove an installed plugin (built-in ones can only be disabled)")
            .RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Produces(204).Errors(403, 404, 409);
        group.MapPost("/{id}/enable", TogglePlugin.EnableAsync).WithName("EnablePlugin")
            .WithSummary("Enable a plugin in the workspace").RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<PluginDto>().Errors(403, 404);
        group.MapPost("/{id}/disable", TogglePlugin.DisableAsync).WithName("DisablePlugin")
            .WithSummary("Disable a plugin in the workspace: it stays listed and refuses to run")
            .RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<PluginDto>().Errors(403, 404);
        group.MapGet("/{id}/config", GetPluginConfig.HandleAsync).WithName("GetPluginConfig")
            .WithSummary("The plugin's config: plain values, and which secret fields are set (never their values)")
            .RequireScope(Scopes.PluginsRead).RequireWorkspace(WorkspaceRole.Admin).Returns<PluginConfigDto>().Errors(403, 404);
        group.MapPut("/{id}/config", UpdatePluginConfig.HandleAsync).WithName("UpdatePluginConfig")
            .WithSummary("Set the plugin's config (validated against its config schema; secret fields are write-only, encrypted, kept when left out, cleared with null)")
            .RequireScope(Scopes.PluginsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<PluginConfigDto>().Errors(400, 403, 404, 422);
        group.MapPost("/{id}/execute", ExecutePlugin.HandleAsync).WithName("ExecutePlugin")
            .WithSummary("Run the plugin {input, async?}: its output, or with async: true 202 and the execution to poll")
            .RequireScope(Scopes.PluginsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ExecutePlugin.Response>().Errors(400, 403, 404, 409, 422, 429, 502, 504);
        group.MapGet("/{id}/executions/{executionId}", GetPluginExecution.HandleAsync).WithName("GetPluginExecution")
            .WithSummary("One execution: status queued|running|succeeded|failed, output or error, latency")
            .RequireScope(Scopes.PluginsRead).RequireWorkspace().Returns<PluginExecutionDto>().Errors(404);
        group.MapGet("/{id}/status", GetPluginStatus.HandleAsync).WithName("GetPluginStatus")
            .WithSummary("Enabled, health from recent executions (healthy|degraded|failing|unknown), latency, and the last executions with their errors")
            .RequireScope(Scopes.PluginsRead).RequireWorkspace().Returns<GetPluginStatus.Response>().Errors(404);
        return app;
    }
}
