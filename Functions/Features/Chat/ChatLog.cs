namespace Serverless.Functions.Features.Chat;

/// <summary>Events of the chat feature (EventIds 800-819). Never message text.</summary>
internal static partial class ChatLog
{
    [LoggerMessage(EventId = 800, Level = LogLevel.Warning, Message = "App {AppId} has datasets but no knowledge retriever is registered; answering without retrieval")]
    public static partial void NoRetriever(ILogger logger, string appId);

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Chat {ChatId} in workspace {WorkspaceId} deleted with {Messages} messages")]
    public static partial void Deleted(ILogger logger, string chatId, string workspaceId, int messages);

    [LoggerMessage(EventId = 802, Level = LogLevel.Information, Message = "Chat {ChatId}: the client left during the answer (turn stored: {Stored})")]
    public static partial void ClientLeft(ILogger logger, string chatId, bool stored);

    [LoggerMessage(EventId = 803, Level = LogLevel.Error, Message = "Chat socket: turn {TurnId} failed unexpectedly; the client got an error frame")]
    public static partial void SocketTurnFailed(ILogger logger, Exception exception, string turnId);

    [LoggerMessage(EventId = 804, Level = LogLevel.Error, Message = "Chat socket: the connection failed unexpectedly and was closed")]
    public static partial void SocketFailed(ILogger logger, Exception exception);
}
