using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

/// <summary>
/// The workflow scenarios on the Durable Task Azure Storage backend: the app in process with
/// <c>Storage:Provider=AzureStorage</c> against an Azurite of its own (started with --skipApiVersionCheck, which
/// DTFx needs). The backend polls its queues, so each wait allows more time.
/// </summary>
public sealed class AzureStorageWorkflowTests(AzureStorageWorkflowTests.Backend backend) : WorkflowConformance(backend), IClassFixture<AzureStorageWorkflowTests.Backend>
{
    public sealed class Backend : WorkflowBackend
    {
        private readonly string _scriptRoot = Path.Combine(Path.GetTempPath(), "platform-tests", "azure-wf-script-" + Guid.NewGuid().ToString("N"));
        private Azurite? _azurite;

        public override int WaitSeconds => 45;

        protected override async Task<IDictionary<string, string?>> BackendSettingsAsync()
        {
            _azurite = await Azurite.StartAsync(CancellationToken.None);
            // The app's own host.json (its queue settings), where the standalone trigger host reads it.
            Directory.CreateDirectory(_scriptRoot);
            File.Copy(Path.Combine(AppContext.BaseDirectory, "host.json"), Path.Combine(_scriptRoot, "host.json"));
            return new Dictionary<string, string?>
            {
                ["Storage:Provider"] = "AzureStorage",
                ["Storage:ConnectionString"] = _azurite.ConnectionString,
                ["Triggers:ScriptRoot"] = _scriptRoot,
                ["Durable:TaskHub"] = "conformance",
            };
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();

            if (_azurite is not null)
            {
                await _azurite.DisposeAsync();
            }

            try
            {
                Directory.Delete(_scriptRoot, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
