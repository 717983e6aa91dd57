using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Tools;

/// <summary>A workflow factory whose plugins, like its http_request nodes, may reach the loopback upstream.</summary>
public sealed class ToolFactory() : WorkflowFactory(new Dictionary<string, string?> { ["Plugins:AllowedPrivateHosts"] = "127.0.0.1" });
