using Serverless.Functions.Platform.Ai;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Tasks;

/// <summary>The task assistant's sessions (the table the first release wrote them to).</summary>
internal sealed class AssistantSessions(IEntityStore store, TimeProvider time) : AgentSessions(store, time, Table, clientsNameSessions: true)
{
    private const string Table = "assistantsessions";
}
