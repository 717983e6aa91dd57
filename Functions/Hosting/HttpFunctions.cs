using Microsoft.AspNetCore.Mvc;

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

    private async Task<IActionResult> RunAsync(HttpRequest request)
    {
        await services.GetRequiredService<FunctionRequests>().HandleAsync(request.HttpContext);
        return Written;
    }
}
