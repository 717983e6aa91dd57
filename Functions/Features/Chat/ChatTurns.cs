using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Apps;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Chat;

/// <summary>One message to answer: in an existing chat, or in a new one of <see cref="NewKind"/> over <see cref="App"/>.</summary>
internal sealed record ChatTurn(
    ChatRecord? Chat, string NewKind, AppRecord? App, string Message, IReadOnlyList<(string Role, string Content)> GivenHistory,
    JsonObject? Variables, bool Stream);

/// <summary>
/// Answers a chat message, the same way for FastGPT's completions and AutoGPT's session messages. A chatbot or agent
/// app (or a session without an app) is one model call through the gateway as the caller, so the calling key's
/// allow-list and budget apply; an app with datasets retrieves first and the model is asked to cite [n]. A workflow
/// app runs its workflow with the message and takes the answer from the run. A turn is stored (user message, then the
/// answer) only when the answer is complete: a failed call or a client that left stores nothing.
/// </summary>
internal sealed class ChatTurns(
    ChatStore chats, ModelGateway gateway, DefaultChatModel defaultModel, WorkflowRunner runner, WorkflowRuns runs, ExecutionNotifier notifier,
    IServiceProvider services, IOptions<ChatOptions> options, IOptions<WorkflowsOptions> workflowOptions, TimeProvider time, ILogger<ChatTurns> logger)
{
    public const string Source = "chat";

    private static readonly string[] ResponseOutputs = ["response", "answer", "text"];

    private readonly ChatOptions _options = options.Value;

    public Task<IResult> AnswerAsync(ChatTurn turn, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken) =>
        turn.App is { Type: AppTypes.Workflow } app
            ? RunWorkflowAsync(turn, app, caller, workspace, cancellationToken)
            : CallModelAsync(turn, caller, workspace, cancellationToken);

    private async Task<List<(string Role, string Content)>> HistoryAsync(ChatTurn turn, CancellationToken cancellationToken)
    {
        var keep = _options.HistoryMessages;
        if (turn.Chat is null)
        {
            return [.. turn.GivenHistory.Skip(Math.Max(0, turn.GivenHistory.Count - keep))];
        }

        return keep == 0 ? [] : [.. (await chats.RecentAsync(turn.Chat.Id, keep, cancellationToken)).Select(m => (m.Role, m.Content))];
    }

    private async Task<IResult> CallModelAsync(ChatTurn turn, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        var modelCaller = new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, Source, AppId: turn.App?.Id);
        var config = turn.App?.Config;
        var model = !string.IsNullOrWhiteSpace(config?.Model) ? config.Model
            : await defaultModel.ResolveAsync(workspace.WorkspaceId, caller.ModelLimits, cancellationToken);
        if (model is null)
        {
            return Api.Validation("model", "Give the app a model. " + DefaultChatModel.NoneAvailable);
        }

        var (knowledge, refused) = await RetrieveAsync(turn, workspace.WorkspaceId, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var messages = new JsonArray();
        var system = SystemPrompt(config?.SystemPrompt, knowledge);
        if (system.Length > 0)
        {
            messages.Add(new JsonObject { ["role"] = ChatRoles.System, ["content"] = system });
        }

        foreach (var (role, content) in await HistoryAsync(turn, cancellationToken))
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = content });
        }

        messages.Add(new JsonObject { ["role"] = ChatRoles.User, ["content"] = turn.Message });
        var request = new JsonObject { ["model"] = model, ["messages"] = messages };
        if (config?.Temperature is { } temperature)
        {
            request["temperature"] = temperature;
        }

        if (config?.MaxTokens is { } maxTokens)
        {
            request["max_tokens"] = maxTokens;
        }

        var citations = knowledge?.Chunks.Select(c => new ChatCitation(c.Citation, c.DatasetId, c.DocumentId, c.Title, c.Content, c.Score)).ToList() ?? [];
        if (!turn.Stream)
        {
            var outcome = await gateway.CompleteChatAsync(modelCaller, request, cancellationToken);
            if (outcome.Failure is { } failure)
            {
                return failure.ToApiResult();
            }

            // The answer is complete (and paid for): a client leaving now must not cut the turn in half.
            var answer = outcome.Value!;
            var text = JsonValues.ToText(answer.Json["choices"]?[0]?["message"]?["content"]);
            var chat = turn.Chat ?? await NewChatAsync(turn, caller, workspace, CancellationToken.None);
            var reply = await SaveAsync(chat, turn, text, Usage(answer.Usage), citations, null, CancellationToken.None);
            return reply is null ? ChatGone() : Api.Ok(reply);
        }

        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var opened = await gateway.StreamChatAsync(modelCaller, request, cancellationToken);
        if (opened.Failure is { } refusedStream)
        {
            return refusedStream.ToApiResult();
        }

        var stream = opened.Value!;
        ChatRecord streamChat;
        try
        {
            streamChat = turn.Chat ?? await NewChatAsync(turn, caller, workspace, CancellationToken.None);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }

        // The stream outlives this method: the result writes it, and disposing it there ends the upstream call (also
        // when the client leaves) and records the usage.
        return new ChatEventStream(turn.Chat is null ? streamChat : null, chats, async (sse, token) =>
        {
            await using var upstream = stream;
            await sse.WriteAsync("start", new { chatId = streamChat.Id, runId = (string?)null }, token);
            var text = new StringBuilder();
            await foreach (var chunk in stream.ReadEventsAsync(token))
            {
                if (!string.IsNullOrEmpty(chunk.ContentDelta))
                {
                    text.Append(chunk.ContentDelta);
                    await sse.WriteAsync("token", new { content = chunk.ContentDelta }, token);
                }
            }

            if (stream.Failure is { } broken)
            {
                await sse.WriteAsync("error", new { code = ModelResults.CodeOf(broken), message = broken.Message }, token);
                return;
            }

            // Stored even if the client leaves now: the answer is complete.
            var reply = await SaveAsync(streamChat, turn, text.ToString(), Usage(stream.Usage), citations, null, CancellationToken.None);
            await EndAsync(sse, reply, token);
        }, stored => ChatLog.ClientLeft(logger, streamChat.Id, stored));
    }

    private async Task<IResult> RunWorkflowAsync(ChatTurn turn, AppRecord app, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        if (app.WorkflowId is null)
        {
            return Api.NotFound("The app's workflow was not found.");
        }

        var history = new JsonArray();
        foreach (var (role, content) in await HistoryAsync(turn, cancellationToken))
        {
            history.Add(new JsonObject { ["role"] = role, ["content"] = content });
        }

        var isNew = turn.Chat is null;
        var chat = turn.Chat ?? await NewChatAsync(turn, caller, workspace, cancellationToken);
        var inputs = new JsonObject
        {
            ["message"] = turn.Message,
            ["query"] = turn.Message,
            ["history"] = history,
            ["chatId"] = chat.Id,
            ["variables"] = turn.Variables?.DeepClone() ?? new JsonObject(),
        };
        var (run, error) = await runner.StartAsync(workspace.WorkspaceId, app.WorkflowId, null, inputs,
            new JsonObject { ["source"] = Source, ["chatId"] = chat.Id, ["appId"] = app.Id }, RunPrincipals.Of(caller), cancellationToken);
        if (error is not null)
        {
            if (isNew)
            {
                await chats.DeleteAsync(chat, CancellationToken.None);
            }

            return error;
        }

        if (!turn.Stream)
        {
            ExecutionDocument ended;
            try
            {
                ended = await notifier.WaitForEndAsync(runs, run!.Id, TimeSpan.FromSeconds(_options.WorkflowWaitSeconds), time, cancellationToken) ?? run!;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && isNew)
            {
                // The client left before the answer: the run goes on, but the chat it opened would stay empty.
                await chats.DeleteAsync(chat, CancellationToken.None);
                throw;
            }

            if (ended.Status != ExecutionStatus.Succeeded && isNew)
            {
                await chats.DeleteAsync(chat, CancellationToken.None);
            }

            if (!ExecutionStatus.IsTerminal(ended.Status))
            {
                return Api.Error(StatusCodes.Status504GatewayTimeout, ErrorCodes.WorkflowError,
                    $"The workflow did not answer within {_options.WorkflowWaitSeconds} s; its run {run.Id} goes on, but this message gets no answer.");
            }

            if (ended.Status != ExecutionStatus.Succeeded)
            {
                return Api.Error(StatusCodes.Status502BadGateway, ErrorCodes.WorkflowError, RunFailure(ended));
            }

            // The run answered: a client leaving now must not cut the turn in half.
            return await SaveRunAsync(chat, turn, ended, CancellationToken.None) is { } saved ? Api.Ok(saved) : ChatGone();
        }

        var idle = TimeSpan.FromSeconds(workflowOptions.Value.HeartbeatSeconds);
        return new ChatEventStream(isNew ? chat : null, chats, async (sse, token) =>
        {
            await sse.WriteAsync("start", new { chatId = chat.Id, runId = run!.Id }, token);
            await foreach (var e in ExecutionEventStream.FollowAsync(runs, notifier, time, run.Id, 0, idle, token))
            {
                if (e is null)
                {
                    await sse.HeartbeatAsync(token);
                }
                else if (e.Type == EventTypes.NodeToken)
                {
                    // A retried llm node streams its answer again: the attempt tells a client to start that node's text over.
                    await sse.WriteAsync("token", new { content = JsonValues.ToText(e.Data?["content"]), nodeId = e.NodeId, attempt = (int?)JsonValues.AsNumber(e.Data?["attempt"]) }, token);
                }
                else if (e.Type.StartsWith(EventTypes.NodePrefix, StringComparison.Ordinal))
                {
                    await sse.WriteAsync(e.Type, new { nodeId = e.NodeId, seq = e.Seq, data = e.Data }, token);
                }
                else if (EventTypes.IsTerminal(e.Type))
                {
                    var ended = (await runs.Store.LoadAsync(run.Id, CancellationToken.None))!.Document;
                    if (ended.Status == ExecutionStatus.Succeeded)
                    {
                        await EndAsync(sse, await SaveRunAsync(chat, turn, ended, CancellationToken.None), token);
                    }
                    else
                    {
                        await sse.WriteAsync("error", new { code = ErrorCodes.WorkflowError, message = RunFailure(ended) }, token);
                    }
                }
            }
        }, stored => ChatLog.ClientLeft(logger, chat.Id, stored));
    }

    private const string GoneMessage = "The chat was deleted while this message was answered; the answer was not kept.";

    private static IResult ChatGone() => Api.Error(StatusCodes.Status409Conflict, ErrorCodes.Conflict, GoneMessage);

    /// <summary>The stream's last event: <c>end</c> once the turn is stored, <c>error</c> when its chat went meanwhile.</summary>
    private static async Task EndAsync(IChatEventWriter sse, ChatReply? reply, CancellationToken cancellationToken)
    {
        if (reply is null)
        {
            await sse.WriteAsync("error", new { code = ErrorCodes.Conflict, message = GoneMessage }, cancellationToken);
            return;
        }

        sse.Stored = true;
        await sse.WriteAsync("end", new
        {
            chatId = reply.ChatId, messageId = reply.MessageId, tokenUsage = reply.TokenUsage, citations = reply.Citations, runId = reply.RunId,
        }, cancellationToken);
    }

    private static string RunFailure(ExecutionDocument run) =>
        run.Error is { } error ? $"The workflow run {run.Id} ended {run.Status}: {error.Code}: {error.Message}" : $"The workflow run {run.Id} ended {run.Status}.";

    private Task<ChatReply?> SaveRunAsync(ChatRecord chat, ChatTurn turn, ExecutionDocument run, CancellationToken cancellationToken)
    {
        var usage = ExecutionViews.TokenUsage(run);
        return SaveAsync(chat, turn, ResponseOf(run), new ChatUsage((int)usage.PromptTokens, (int)usage.CompletionTokens, (int)usage.TotalTokens),
            [], run.Id, cancellationToken);
    }

    /// <summary>
    /// A workflow's answer: its output named <c>response</c>, <c>answer</c> or <c>text</c> (first found), else the text of
    /// the llm node that finished last, else all outputs as JSON.
    /// </summary>
    public static string ResponseOf(ExecutionDocument run)
    {
        foreach (var name in ResponseOutputs)
        {
            if (run.Outputs?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                return value.GetValue<string>();
            }
        }

        var lastLlm = run.Definition.Nodes.Where(n => n.Type == "llm")
            .Select(n => run.Nodes[n.Id]).Where(s => s.Status == NodeStatus.Succeeded && s.Output?["text"] is JsonValue)
            .OrderBy(s => s.CompletedAt).LastOrDefault();
        return lastLlm is not null ? JsonValues.ToText(lastLlm.Output!["text"]) : run.Outputs?.ToJsonString() ?? "";
    }

    private static ChatUsage Usage(TokenUsage usage) => new(usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens);

    private async Task<ChatRecord> NewChatAsync(ChatTurn turn, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        var chat = await chats.CreateAsync(workspace.WorkspaceId, caller.UserId, turn.App?.Id, turn.NewKind, turn.Message, cancellationToken);
        if (turn.GivenHistory.Count > 0)
        {
            // History given as OpenAI-style messages opens the new chat, so a follow-up with its chatId sees it too.
            await chats.AppendAsync(chat, [.. turn.GivenHistory.Select(h => new ChatMessageRecord("", "", h.Role, h.Content, null, null, null, null, default))], cancellationToken);
        }

        return chat;
    }

    /// <summary>Stores the turn: null when its chat was deleted while it was answered (then nothing of it is kept).</summary>
    private async Task<ChatReply?> SaveAsync(
        ChatRecord chat, ChatTurn turn, string text, ChatUsage usage, IReadOnlyList<ChatCitation> citations, string? runId, CancellationToken cancellationToken)
    {
        var written = await chats.AppendAsync(chat,
        [
            new ChatMessageRecord("", "", ChatRoles.User, turn.Message, null, null, null, null, default),
            new ChatMessageRecord("", "", ChatRoles.Assistant, text, usage, citations, null, runId, default),
        ], cancellationToken);
        return written is null ? null : new ChatReply(chat.Id, written[^1].Id, text, usage, citations, runId);
    }

    private async Task<(KnowledgeOutcome.Found? Knowledge, IResult? Refused)> RetrieveAsync(ChatTurn turn, string workspaceId, CancellationToken cancellationToken)
    {
        if (turn.App?.Config.DatasetIds is not { Count: > 0 } datasetIds)
        {
            return (null, null);
        }

        // The datasets feature provides the retriever; a deployment without it answers from the model alone.
        if (services.GetService<IKnowledgeRetriever>() is not { } retriever)
        {
            ChatLog.NoRetriever(logger, turn.App.Id);
            return (null, null);
        }

        return await retriever.RetrieveAsync(new KnowledgeRequest(workspaceId, datasetIds, turn.Message, _options.RetrievalTopK), cancellationToken) switch
        {
            KnowledgeOutcome.Found found => (found, null),
            KnowledgeOutcome.NotFound missing => (null, Api.Error(StatusCodes.Status409Conflict, ErrorCodes.Conflict,
                $"The app's dataset {missing.DatasetId} was not found; change the app's datasetIds.")),
            KnowledgeOutcome.Invalid invalid => (null, Api.Error(StatusCodes.Status409Conflict, ErrorCodes.Conflict,
                $"The app's datasets cannot be searched: {invalid.Message}")),
            KnowledgeOutcome.ModelFailed failed => (null, failed.Failure.ToApiResult()),
            _ => throw new InvalidOperationException("Unknown retrieval outcome."),
        };
    }

    private static string SystemPrompt(string? appPrompt, KnowledgeOutcome.Found? knowledge)
    {
        var prompt = appPrompt?.Trim() ?? "";
        if (knowledge is null)
        {
            return prompt;
        }

        var context = knowledge.Chunks.Count == 0
            ? "No passage of the knowledge base matches this question. Say that you could not find it there rather than guessing."
            : "Answer from the numbered context below. Cite the passages you use as [n] with their numbers; "
              + "if the context does not contain the answer, say so.\n\nContext:\n" + knowledge.Context;
        return prompt.Length == 0 ? context : prompt + "\n\n" + context;
    }
}
