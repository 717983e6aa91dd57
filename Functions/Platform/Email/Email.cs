using System.Net;
using System.Net.Mail;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Email;

internal sealed class EmailOptions
{
    public const string Section = "Email";

    /// <summary>SMTP server; when empty, mails go to the log outbox (readable by the operator).</summary>
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; } = 587;
    public string? SmtpUser { get; set; }
    public string? SmtpPassword { get; set; }
    public bool SmtpUseTls { get; set; } = true;
    public string From { get; set; } = "no-reply@localhost";

    /// <summary>Base of the links put in mails (the web front end that completes a reset or verification).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:7071";
}

internal sealed record EmailMessage(string To, string Subject, string Body);

internal interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Mails leave through the <c>email-outbox</c> queue, so a request never waits on (or fails because of) SMTP;
/// the SendEmail queue function delivers them, with the queue's retries and poison handling.
/// </summary>
internal sealed class EmailOutbox(IWorkQueue queue)
{
    public const string QueueName = "email-outbox";

    public Task EnqueueAsync(EmailMessage message, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(QueueName, JsonSerializer.Serialize(message, JsonSerializerOptions.Web), null, cancellationToken);
}

internal sealed partial class LogEmailSender(ILogger<LogEmailSender> logger) : IEmailSender
{
    public Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        LogOutbox(logger, message.To, message.Subject, message.Body);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Email outbox (no SMTP configured) to {To}: {Subject}\n{Body}")]
    private static partial void LogOutbox(ILogger logger, string to, string subject, string body);
}

internal sealed class SmtpEmailSender(IOptions<EmailOptions> options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var client = new SmtpClient(o.SmtpHost, o.SmtpPort) { EnableSsl = o.SmtpUseTls };
        if (!string.IsNullOrEmpty(o.SmtpUser))
        {
            client.Credentials = new NetworkCredential(o.SmtpUser, o.SmtpPassword);
        }

        using var mail = new MailMessage(o.From, message.To, message.Subject, message.Body);
        await client.SendMailAsync(mail, cancellationToken);
    }
}

internal static class EmailSetup
{
    public static IServiceCollection AddEmail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EmailOptions>().Bind(configuration.GetSection(EmailOptions.Section));
        services.AddSingleton<EmailOutbox>();
        if (string.IsNullOrWhiteSpace(configuration[$"{EmailOptions.Section}:SmtpHost"]))
        {
            services.AddSingleton<IEmailSender, LogEmailSender>();
        }
        else
        {
            services.AddSingleton<IEmailSender, SmtpEmailSender>();
        }

        return services;
    }
}
