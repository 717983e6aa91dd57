using Serverless.Functions.Tests.Features.Workflows;
using Serverless.Testing;
using Xunit.Abstractions;

namespace Serverless.Storage.Conformance.Tests.Azure;

/// <summary>
/// The crash scenario on the Durable Task Azure Storage backend: both app processes on one Azurite, with a short
/// partition lease and message visibility so the restarted worker takes over the killed one's partitions and
/// messages soon.
/// </summary>
public sealed class AzureStorageCrashRecoveryTests(ITestOutputHelper output) : CrashRecovery(output)
{
    private Azurite? _azurite;

    protected override string Backend => "Azure Storage (Azurite)";

    protected override int RecoverySeconds => 90;

    protected override IDictionary<string, string> Settings => new Dictionary<string, string>(base.Settings)
    {
        ["Storage__Provider"] = "AzureStorage",
        ["Storage__ConnectionString"] = _azurite!.ConnectionString,
        ["Durable__LeaseSeconds"] = "5",
        ["Durable__MessageVisibilitySeconds"] = "10",
    };

    public override async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync(CancellationToken.None);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
