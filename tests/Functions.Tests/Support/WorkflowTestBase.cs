namespace Serverless.Functions.Tests.Support;

/// <summary>A workflow test class's usual kit: a client, a registered user, and a fake upstream for http_request nodes.</summary>
public abstract class WorkflowTestBase(WorkflowFactory factory) : IAsyncLifetime
{
    protected HttpClient Client { get; } = factory.CreateClient();

    protected WorkflowFactory Factory => factory;

    protected FakeUpstream Upstream { get; private set; } = null!;

    protected TestUser User { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        User = await Client.RegisterAsync();
    }

    public async Task DisposeAsync() => await Upstream.DisposeAsync();
}
