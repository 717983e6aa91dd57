using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Serverless.Functions.Platform.Durable;

namespace Serverless.Functions.Hosting;

/// <summary>
/// Worker mode's HTTP functions, one per endpoint of the endpoint table (<c>HttpFunctions.g.cs</c>, written by
/// <see cref="HttpFunctionsGenerator"/>). Each hands its request to <see cref="FunctionRequests"/>: the behaviour of an
/// endpoint lives only in the platform's pipeline, never here.
/// </summary>
public sealed partial class HttpFunctions(IServiceProvider services)
{
    // The pipeline has written the response; an empty result tells the worker there is nothing more to write.
    private static readonly IActionResult Written = new EmptyResult();

    // Every endpoint binds the Durable Functions client, so any of them may start or signal workflow runs through the
    // runs port without knowing it runs under the Functions host.
    private async Task<IActionResult> RunAsync(HttpRequest request, DurableTaskClient durable)
    {
        using var scope = DurableClientScope.Enter(durable);
        await services.GetRequiredService<FunctionRequests>().HandleAsync(request.HttpContext);
        return Written;
    }
}
