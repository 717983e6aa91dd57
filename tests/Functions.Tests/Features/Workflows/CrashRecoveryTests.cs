using Xunit.Abstractions;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>The crash scenario on the embedded backend: both processes on one data directory (durable.db beside the entity store).</summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : CrashRecovery(output)
{
    protected override string Backend => "SQLite";

    protected override int RecoverySeconds => 40;
}
