using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Platform.Durable;

/// <summary>
/// Standalone mode's Durable Task host: the workflow orchestrator and its activities on the Durable Task Framework's
/// <see cref="TaskHubWorker"/> (through the Durable Task SDK's shims, so the classes are the ones Durable Functions
/// runs), and the <see cref="TaskHubClient"/> the app starts and signals runs with. The backend follows the storage
/// provider: our SQLite orchestration service, or the Azure Storage backend (Azurite locally).
/// </summary>
internal sealed class StandaloneDurableHost : IHostedService, IRunOrchestrations, IAsyncDisposable
{
    private static readonly OrchestrationStatus[] Running = [OrchestrationStatus.Pending, OrchestrationStatus.Running, OrchestrationStatus.ContinuedAsNew];

    private readonly IOrchestrationService _service;
    private readonly TaskHubWorker _worker;
    private readonly TaskHubClient _client;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _started;
    private Task? _stopping;

    public StandaloneDurableHost(IServiceProvider services, IOptions<DurableOptions> options, IOptions<StorageOptions> storage, ILoggerFactory loggerFactory)
    {
        var durable = options.Value;
        IOrchestrationServiceClient serviceClient;
        if (string.Equals(storage.Value.Provider, StorageSetup.SqliteProvider, StringComparison.OrdinalIgnoreCase))
        {
            // Durable timers run on the real clock: orchestration time comes from the framework, whatever the app's TimeProvider.
            var sqlite = new SqliteOrchestrationService(new SqliteOrchestrationServiceOptions
            {
                DatabasePath = Path.Combine(Path.GetFullPath(storage.Value.DataDirectory), "durable.db"),
                MaxConcurrentOrchestrations = durable.MaxConcurrentOrchestrations,
                MaxConcurrentActivities = durable.MaxConcurrentActivities,
            }, timeProvider: null, loggerFactory.CreateLogger<SqliteOrchestrationService>());
            _service = sqlite;
            serviceClient = sqlite;
        }
        else
        {
            var azure = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
            {
                TaskHubName = durable.TaskHub,
                StorageAccountClientProvider = AccountClients(storage.Value, services),
                MaxConcurrentTaskOrchestrationWorkItems = durable.MaxConcurrentOrchestrations,
                MaxConcurrentTaskActivityWorkItems = durable.MaxConcurrentActivities,
                LeaseInterval = TimeSpan.FromSeconds(durable.LeaseSeconds),
                LeaseRenewInterval = TimeSpan.FromSeconds(Math.Max(1, durable.LeaseSeconds / 3)),
                LeaseAcquireInterval = TimeSpan.FromSeconds(Math.Max(1, durable.LeaseSeconds / 3)),
                MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
                // A message a killed worker had taken stays hidden this long (5 min by default): after a crash, runs
                // go on once both this and the partition lease have passed. Live workers renew what they hold.
                ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(durable.MessageVisibilitySeconds),
                WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(durable.MessageVisibilitySeconds),
                LoggerFactory = loggerFactory,
            });
            _service = azure;
            serviceClient = azure;
        }

        _worker = new TaskHubWorker(_service, loggerFactory);
        var catalog = new ShimCatalog(new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = PayloadJson.Sdk }, loggerFactory));
        catalog.AddOrchestrator(RunTasks.Orchestrator, services.GetRequiredService<WorkflowOrchestrator>);
        foreach (var (name, type) in RunActivityTypes.All)
        {
            catalog.AddActivity(name, () => (ITaskActivity)services.GetRequiredService(type));
        }

        catalog.Register(_worker);
        _client = new TaskHubClient(serviceClient, PayloadJson.Framework, loggerFactory);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _service.CreateIfNotExistsAsync();
        await _worker.StartAsync();
        _started = true;
        _ready.TrySetResult();
    }

    // The host stops it and the container disposes it, sometimes at the same time: both wait for the one stop.
    // The host's shutdown timeout bounds the wait: a backend that cannot be reached must not keep the process alive.
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_worker)
        {
            _stopping ??= _started ? _worker.StopAsync(isForced: true) : Task.CompletedTask;
        }

        return _stopping.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await StopAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            // The worker did not stop in time (its backend is gone); the process is ending, so leave it be.
            return;
        }

        _worker.Dispose();
        (_service as IDisposable)?.Dispose();
    }

    public async Task StartAsync(string instanceId, RunInput input, CancellationToken cancellationToken)
    {
        // The web server may take requests before this host has started (hosted services start in turn).
        await _ready.Task.WaitAsync(cancellationToken);
        try
        {
            await _client.CreateOrchestrationInstanceAsync(RunTasks.Orchestrator, "", instanceId, input, null, Running);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            // Scheduled before (a repeated start after a crash): the instance that exists is the run's.
        }
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken)
    {
        await _ready.Task.WaitAsync(cancellationToken);
        await _client.RaiseEventAsync(new OrchestrationInstance { InstanceId = instanceId }, eventName, payload!);
    }

    public async Task<bool> ExistsAsync(string instanceId, CancellationToken cancellationToken)
    {
        await _ready.Task.WaitAsync(cancellationToken);
        return await _client.GetOrchestrationStateAsync(instanceId) is not null;
    }

    private static StorageAccountClientProvider AccountClients(StorageOptions storage, IServiceProvider services)
    {
        if (!string.IsNullOrWhiteSpace(storage.ConnectionString))
        {
            return new StorageAccountClientProvider(storage.ConnectionString);
        }

        var account = storage.AccountName;
        return new StorageAccountClientProvider(
            new Uri(storage.BlobServiceUri ?? $"https://{account}.blob.core.windows.net"),
            new Uri(storage.QueueServiceUri ?? $"https://{account}.queue.core.windows.net"),
            new Uri(storage.TableServiceUri ?? $"https://{account}.table.core.windows.net"),
            services.GetRequiredService<Azure.Core.TokenCredential>());
    }
}
