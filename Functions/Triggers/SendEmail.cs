using System.Text.Json;
using Serverless.Functions.Platform.Email;

namespace Serverless.Functions.Triggers;

/// <summary>Queue: delivers one mail from the <c>email-outbox</c> queue (SMTP, or the log outbox).</summary>
internal sealed class SendEmail(IEmailSender sender) : ITriggerFunction
{
    public string Name => "SendEmail";

    public async Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        var text = request.Text("message") ?? throw new InvalidOperationException("The trigger carried no message.");
        var message = JsonSerializer.Deserialize<EmailMessage>(text, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("The message is not an email.");
        await sender.SendAsync(message, cancellationToken);
        return new TriggerOutcome([$"Sent '{message.Subject}'."], null);
    }
}
