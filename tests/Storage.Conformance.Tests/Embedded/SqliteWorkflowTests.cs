namespace Serverless.Storage.Conformance.Tests.Embedded;

/// <summary>The workflow scenarios on the embedded backend: the app in process, runs on our SQLite orchestration service (durable.db in a temp data directory).</summary>
public sealed class SqliteWorkflowTests(SqliteWorkflowTests.Backend backend) : WorkflowConformance(backend), IClassFixture<SqliteWorkflowTests.Backend>
{
    public sealed class Backend : WorkflowBackend
    {
        public override int WaitSeconds => 20;

        protected override Task<IDictionary<string, string?>> BackendSettingsAsync() =>
            Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite" });
    }
}
