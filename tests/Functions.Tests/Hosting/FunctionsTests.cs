using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Hosting;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Tests.Support;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Tests.Hosting;

/// <summary>The committed HTTP functions match the endpoint table; the timer and queue functions are what both modes run.</summary>
public sealed class FunctionsTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public void CommittedHttpFunctions_MatchTheEndpointTable()
    {
        var expected = HttpFunctionsGenerator.Render(factory.Services.GetRequiredService<EndpointDataSource>().Endpoints);
        var committed = File.ReadAllText(Path.Combine(RepoPaths.FunctionsDirectory, HttpFunctionsGenerator.RelativePath)).ReplaceLineEndings("\n");

        Assert.True(expected == committed,
            $"{HttpFunctionsGenerator.RelativePath} is out of date. Run `dotnet run --project Functions -- generate-functions` and commit the result.");
    }

    [Fact]
    public void EveryEndpoint_ButTheStandaloneRoot_IsAnHttpFunction()
    {
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var functions = HttpFunctionsGenerator.Functions(endpoints);

        Assert.Equal(endpoints.Count - 1, functions.Count);
        Assert.Equal(["get"], functions["GetHealth"].Methods);
        Assert.Equal("api/v1/tasks/{id}", functions["GetTask"].Route);
    }

    [Fact]
    public void TriggerCatalog_ReadsEveryTimerAndQueueFunction()
    {
        var functions = factory.Services.GetRequiredService<TriggerCatalog>().All.ToDictionary(f => f.Name);

        Assert.Equal(["CleanupExpiredRecords", "DeliverWebhook", "DispatchPlatformEvent", "EvaluateAlerts", "FireDueProcesses", "FireScheduledTriggers", "IngestDocument",
            "IngestionWatchdog", "RunAnalyticsExport", "RunPluginExecution", "SendEmail", "SweepAnalytics", "SweepExpiredCredentials", "SweepWorkflowRuns"], functions.Keys.Order());
        Assert.Equal(EmailOutbox.QueueName, functions["SendEmail"].QueueName);
        Assert.Equal(DocumentIngestion.QueueName, functions["IngestDocument"].QueueName);
        Assert.Equal(Serverless.Functions.Platform.Events.PlatformEventMessage.QueueName, functions["DispatchPlatformEvent"].QueueName);
        Assert.Equal(Serverless.Functions.Features.Webhooks.WebhookDeliveryMessage.QueueName, functions["DeliverWebhook"].QueueName);
        Assert.Equal(Serverless.Functions.Features.Analytics.ExportMessage.QueueName, functions["RunAnalyticsExport"].QueueName);
        Assert.Equal(Serverless.Functions.Features.Plugins.PluginExecutionMessage.QueueName, functions["RunPluginExecution"].QueueName);
        Assert.Equal("*/30 * * * * *", functions["SweepWorkflowRuns"].Schedule);
        Assert.True(functions["SweepWorkflowRuns"].RunOnStartup);
        Assert.Equal("0 * * * * *", functions["FireScheduledTriggers"].Schedule);
        Assert.All(functions.Values.Where(f => f.QueueName is null), f => Assert.NotNull(NCrontab.CrontabSchedule.TryParse(f.Schedule, new() { IncludingSeconds = true })));
    }

    [Fact]
    public void EveryClassWithTimerOrQueueFunctions_IsRegistered()
    {
        var registered = factory.Services.GetRequiredService<TriggerCatalog>().All.Select(f => f.Name).Order();
        var declared = TriggerCatalog.Scan(typeof(TriggerFunctions).Assembly).Select(f => f.Name).Order();

        Assert.Equal(declared, registered);
    }
}
