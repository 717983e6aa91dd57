namespace Serverless.Functions.Features.Otto;

/// <summary>Events of the Otto assistant (EventIds 2300-2319). Never the user's messages or the model's answers.</summary>
internal static partial class OttoLog
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Debug, Message = "Otto answered in session {SessionId} after {ToolCalls} tool calls (proposal: {Proposed})")]
    public static partial void Answered(ILogger logger, string sessionId, int toolCalls, bool proposed);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Debug, Message = "Otto's proposal in session {SessionId} failed validation {Times} time(s)")]
    public static partial void ProposalRejected(ILogger logger, string sessionId, int times);
}
