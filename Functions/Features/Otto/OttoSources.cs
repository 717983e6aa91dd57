using Serverless.Functions.Features.Workflows;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Otto;

/// <summary>What Otto reads to answer: the workflows, the blocks catalog with its validator, and the runs.</summary>
internal sealed record OttoSources(WorkflowStore Workflows, NodeRegistry Registry, DefinitionValidator Validator, WorkflowRuns Runs);
