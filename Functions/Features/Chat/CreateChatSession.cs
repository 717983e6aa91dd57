using Serverless.Functions.Features.Apps;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class CreateChatSession
{
    internal sealed record Request(string? AppId, string? Title);

    /// <summary>AutoGPT's session: a chat started empty, over an app or (without one) the default chat model.</summary>
    public static async Task<IResult> HandleAsync(
        Request? request, Caller caller, WorkspaceContext workspace, AppStore apps, ChatStore chats, CancellationToken cancellationToken)
    {
        var check = new Validator().MaxLength("appId", request?.AppId, 200).MaxLength("title", request?.Title, 200);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (request?.AppId is { } appId && await apps.GetAsync(workspace.WorkspaceId, appId, cancellationToken) is null)
        {
            return Api.NotFound("The app was not found.");
        }

        var chat = await chats.CreateAsync(workspace.WorkspaceId, caller.UserId, request?.AppId, ChatStore.KindSession,
            string.IsNullOrWhiteSpace(request?.Title) ? "New session" : request.Title, cancellationToken);
        return Api.Created(ChatDto.From(chat), $"/api/v1/chat/history?sessionId={chat.Id}");
    }
}
