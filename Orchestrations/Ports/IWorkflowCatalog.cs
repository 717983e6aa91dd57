using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Ports;

/// <summary>Where the engine finds the workflows that sub-workflow and loop nodes run.</summary>
public interface IWorkflowCatalog
{
    /// <summary>
    /// The definition of <paramref name="workflowId"/> in <paramref name="workspaceId"/> at <paramref name="version"/>
    /// (null: its current version), or null when it does not exist there or cannot be run.
    /// </summary>
    Task<CatalogEntry?> FindAsync(string workspaceId, string workflowId, int? version, CancellationToken cancellationToken);
}

/// <summary>A runnable workflow version.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Version">The version found.</param>
/// <param name="Definition">Its definition.</param>
public sealed record CatalogEntry(string WorkflowId, int Version, WorkflowDefinition Definition);
