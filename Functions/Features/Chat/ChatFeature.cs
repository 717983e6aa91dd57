using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

/// <summary>
/// Chat over apps (FastGPT's completions, history and feedback) and AutoGPT's sessions, over one chat store. Answers
/// come from the model gateway as the caller (chatbot and agent apps, sessions) or from a run of the app's workflow.
/// </summary>
internal static class ChatFeature
{
    public static IServiceCollection AddChat(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChatOptions>().Bind(configuration.GetSection(ChatOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ChatStore>();
        services.AddSingleton<ChatTurns>();
        services.AddSingleton(sp => new DefaultChatModel(sp.GetRequiredService<ModelGateway>(), sp.GetRequiredService<IOptions<ChatOptions>>().Value.DefaultModel));
        return services;
    }

    public static IEndpointRouteBuilder MapChat(this IEndpointRouteBuilder app)
    {
        var chat = app.MapGroup("/api/v1/chat").WithTags("Chat");
        chat.MapPost("/completions", SendChatCompletion.HandleAsync).WithName("SendChatCompletion")
            .WithSummary("A message to an app {appId, chatId?, message | messages, variables?, stream}: {chatId, messageId, response, tokenUsage, citations}, or SSE start/token/node events/end/error")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ChatReply>().Produces(200, contentType: "text/event-stream").Errors(400, 402, 403, 404, 409, 422, 429, 502, 504);
        chat.MapGet("/history", ListChatHistory.HandleAsync).WithName("ListChatHistory")
            .WithSummary("chatId or sessionId: that chat's messages (oldest first); otherwise your chats (appId filters), latest first")
            .RequireScope(Scopes.ChatRead).RequireWorkspace().Returns<IReadOnlyList<ChatDto>>().Errors(404, 422);
        chat.MapDelete("/history/{chatId}", DeleteChat.HandleAsync).WithName("DeleteChat")
            .WithSummary("Delete a chat or session with its messages")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        chat.MapPost("/feedback", SubmitChatFeedback.HandleAsync).WithName("SubmitChatFeedback")
            .WithSummary("Rate an answer {chatId, messageId, rating: up|down, comment?}")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).Returns<ChatMessageDto>().Errors(400, 404, 422);
        chat.MapPost("/sessions", CreateChatSession.HandleAsync).WithName("CreateChatSession")
            .WithSummary("AutoGPT: start a session {appId?, title?}; without an app it talks to the default chat model")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).Returns<ChatDto>(201).Errors(400, 404, 422);
        chat.MapPost("/messages", SendSessionMessage.HandleAsync).WithName("SendSessionMessage")
            .WithSummary("AutoGPT: a message to a session {sessionId, message, variables?, stream?}; answered like /chat/completions")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ChatReply>().Produces(200, contentType: "text/event-stream").Errors(400, 402, 403, 404, 409, 422, 429, 502, 504);
        chat.MapGet("/stream", ChatSocket.HandleAsync).WithName("ChatStreamSocket")
            .WithSummary("WebSocket: chat turns {type: chat, appId | sessionId, chatId?, message | messages, variables?, turnId?} answered one at a time as start/token/node event/end/error frames; cancel, ping (token also accepted as ?access_token=)")
            .RequireScope(Scopes.ChatWrite).RequireWorkspace(WorkspaceRole.Member).AsWebSocket().Errors(400);
        return app;
    }
}
