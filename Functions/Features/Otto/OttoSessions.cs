using Serverless.Functions.Platform.Ai;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Otto;

/// <summary>Otto's sessions, apart from the task assistant's: a session id of one means nothing to the other.</summary>
internal sealed class OttoSessions(IEntityStore store, TimeProvider time) : AgentSessions(store, time, Table, clientsNameSessions: false)
{
    private const string Table = "ottosessions";
}
