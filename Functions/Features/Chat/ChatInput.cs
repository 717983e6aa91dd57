using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Chat;

/// <summary>Checks shared by the message endpoints.</summary>
internal static class ChatInput
{
    public const int MaxMessageLength = 20_000;
    public const int MaxGivenMessages = 200;

    /// <summary>
    /// The new message from <c>message</c>, or from an OpenAI-style <c>messages</c> array: its last entry (a user
    /// message) is the new one and the earlier ones are the history, unless the chat already has its own
    /// (<paramref name="continuesChat"/>), which then wins as in FastGPT. Roles are user and assistant only: the app
    /// owns the system prompt.
    /// </summary>
    public static (string Message, List<(string Role, string Content)> History) Read(
        Validator check, string? message, JsonArray? messages, bool continuesChat)
    {
        if (message is not null && messages is not null)
        {
            check.Add("messages", "Give message or messages, not both.");
            return ("", []);
        }

        if (messages is null)
        {
            check.Require("message", message, MaxMessageLength);
            return (message ?? "", []);
        }

        if (messages.Count is 0 or > MaxGivenMessages)
        {
            check.Add("messages", $"messages must hold 1 to {MaxGivenMessages} messages.");
            return ("", []);
        }

        var read = new List<(string Role, string Content)>();
        for (var i = 0; i < messages.Count; i++)
        {
            // Indexing a JSON number, string or array by name throws, so anything but an object is a bad entry here.
            var entry = messages[i] as JsonObject;
            var role = entry?["role"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>() : null;
            var content = entry?["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null;
            if (role is not (ChatRoles.User or ChatRoles.Assistant) || content is null || content.Length > MaxMessageLength)
            {
                check.Add($"messages[{i}]", $"Each message is {{role: user|assistant, content: text of at most {MaxMessageLength} characters}}.");
                return ("", []);
            }

            read.Add((role, content));
        }

        if (read[^1].Role != ChatRoles.User || string.IsNullOrWhiteSpace(read[^1].Content))
        {
            check.Add("messages", "The last message must be a non-empty user message.");
            return ("", []);
        }

        return (read[^1].Content, continuesChat ? [] : read[..^1]);
    }

    public static Validator CheckVariables(this Validator check, JsonObject? variables) =>
        check.When(variables is not null && variables.ToJsonString().Length > 100_000, "variables", "variables may be at most 100000 characters as JSON.");
}
