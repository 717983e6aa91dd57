namespace Serverless.Functions.Platform.Security;

/// <summary>The scopes an API key can hold. A user session holds all of them.</summary>
internal static class Scopes
{
    public const string ProfileRead = "profile:read";
    public const string ProfileWrite = "profile:write";
    public const string ApiKeysRead = "api_keys:read";
    public const string ApiKeysWrite = "api_keys:write";
    public const string WorkspacesRead = "workspaces:read";
    public const string WorkspacesWrite = "workspaces:write";
    public const string WorkflowsRead = "workflows:read";
    public const string WorkflowsWrite = "workflows:write";
    public const string WorkflowsExecute = "workflows:execute";
    public const string AppsRead = "apps:read";
    public const string AppsWrite = "apps:write";
    public const string ModelsUse = "models:use";
    public const string ProvidersRead = "providers:read";
    public const string ProvidersWrite = "providers:write";
    public const string UsageRead = "usage:read";
    public const string AlertsWrite = "alerts:write";
    public const string TasksRead = "tasks:read";
    public const string TasksWrite = "tasks:write";
    public const string ChatRead = "chat:read";
    public const string ChatWrite = "chat:write";
    public const string DatasetsRead = "datasets:read";
    public const string DatasetsWrite = "datasets:write";
    public const string WebhooksRead = "webhooks:read";
    public const string WebhooksWrite = "webhooks:write";
    public const string PluginsRead = "plugins:read";
    public const string PluginsWrite = "plugins:write";
    public const string PluginsExecute = "plugins:execute";
    public const string IntegrationsRead = "integrations:read";
    public const string IntegrationsWrite = "integrations:write";
    public const string StoreRead = "store:read";
    public const string StoreWrite = "store:write";

    public static readonly IReadOnlyList<ScopeInfo> All =
    [
        new(ProfileRead, "Read the key owner's profile and settings (GET /auth/me, /user/profile, /user/settings)."),
        new(ProfileWrite, "Change the key owner's profile and settings."),
        new(ApiKeysRead, "List the owner's API keys."),
        new(ApiKeysWrite, "Create and delete API keys (never with more scopes than the calling key holds)."),
        new(WorkspacesRead, "List the key's workspace and its members."),
        new(WorkspacesWrite, "Manage the members of the key's workspace."),
        new(WorkflowsRead, "Read workflows, their versions, blocks, executions and their events."),
        new(WorkflowsWrite, "Create, change and delete workflows, library agents and presets."),
        new(WorkflowsExecute, "Run workflows; stop, retry and review executions."),
        new(AppsRead, "Read and export apps."),
        new(AppsWrite, "Create, change, clone, import and delete apps."),
        new(ModelsUse, "Call models: the OpenAI-compatible /v1 API, Ollama generation, and the task assistant."),
        new(ProvidersRead, "List the workspace's model providers and their health."),
        new(ProvidersWrite, "Create, change and delete the workspace's model providers; pull and delete Ollama models."),
        new(UsageRead, "Read the workspace's model usage and cost, its analytics, alerts and exports (exports also need this scope to start)."),
        new(AlertsWrite, "Create, change and delete the workspace's alerts (workspace owners and admins)."),
        new(TasksRead, "List and read the workspace's tasks."),
        new(TasksWrite, "Create, change and delete the workspace's tasks, also through the task assistant."),
        new(ChatRead, "Read your chats, sessions and their messages."),
        new(ChatWrite, "Chat with apps and sessions (model calls as you, under your key's model limits); rate answers; delete chats."),
        new(DatasetsRead, "List and read datasets, documents and their ingestion status; search them and query RAG namespaces (generating an answer also needs models:use)."),
        new(DatasetsWrite, "Create, change and delete datasets; upload, replace and delete documents; index RAG namespaces."),
        new(WebhooksRead, "List the workspace's webhooks and their deliveries (workspace owners and admins)."),
        new(WebhooksWrite, "Create, change, delete and test the workspace's webhooks; redeliver deliveries (workspace owners and admins)."),
        new(PluginsRead, "List the workspace's plugins, their status and executions (their config: workspace owners and admins)."),
        new(PluginsWrite, "Install, remove, enable, disable and configure the workspace's plugins (workspace owners and admins)."),
        new(PluginsExecute, "Run the workspace's plugins."),
        new(IntegrationsRead, "List the integration provider catalog and the workspace's stored credentials (never their secrets), also at GET /v1/integrations."),
        new(IntegrationsWrite, "Store, update, delete and test the workspace's credentials (workspace owners and admins)."),
        new(StoreRead, "Browse the store's listings and creators; read your own store submissions."),
        new(StoreWrite, "Submit workflows to the store and withdraw pending submissions; review listings; edit your creator profile; upload and delete store media."),
    ];

    public static readonly IReadOnlySet<string> Names = All.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
}

internal sealed record ScopeInfo(string Name, string Description);
