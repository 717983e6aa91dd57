using Microsoft.Azure.Functions.Worker;

namespace Serverless.Functions.Features.Integrations;

/// <summary>The integrations feature's timer function (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class IntegrationsFunctions(IServiceProvider services)
{
    public const string ExpirySchedule = "0 */5 * * * *";

    /// <summary>Every five minutes: credentials past their expiry are marked expired and raise <c>credential.expired</c>.</summary>
    [Function(nameof(SweepExpiredCredentials))]
    public Task SweepExpiredCredentials([TimerTrigger(ExpirySchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        services.GetRequiredService<CredentialExpiries>().SweepAsync(cancellationToken);
}
