using System.Net;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Triggers;

/// <summary>
/// Runs trigger functions by name. The Functions host reaches them over HTTP (<c>POST /{FunctionName}</c>); the
/// standalone trigger host calls <see cref="InvokeAsync"/> in process with the same envelope.
/// </summary>
internal sealed class TriggerDispatcher(IEnumerable<ITriggerFunction> functions, ILogger<TriggerDispatcher> logger)
{
    private readonly Dictionary<string, ITriggerFunction> _functions = functions.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> Names => _functions.Keys;

    public async Task<(bool Succeeded, TriggerResponse Response)> InvokeAsync(string name, TriggerRequest request, CancellationToken cancellationToken)
    {
        if (!_functions.TryGetValue(name, out var function))
        {
            return (false, new TriggerResponse([], [$"No trigger function named {name}."], null));
        }

        try
        {
            var outcome = await function.InvokeAsync(request, cancellationToken);
            return (true, new TriggerResponse([], outcome.Logs, outcome.ReturnValue));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            TriggersLog.Failed(logger, exception, name);
            return (false, new TriggerResponse([], [$"{name} failed: {exception.GetType().Name}"], null));
        }
    }

    public IEndpointRouteBuilder MapEndpoints(IEndpointRouteBuilder app)
    {
        foreach (var name in Names)
        {
            app.MapPost("/" + name, async (HttpContext context, TriggerRequest request, CancellationToken cancellationToken) =>
                {
                    // Only the local Functions host (or a local operator) may fire triggers; through the host's public
                    // front door only HTTP functions are reachable.
                    if (context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
                    {
                        return Api.NotFound();
                    }

                    var (succeeded, response) = await InvokeAsync(name, request, cancellationToken);
                    return Results.Json(response, statusCode: succeeded ? 200 : 500);
                })
                .WithName("Trigger_" + name)
                .AllowAnonymous()
                .WithMetadata(new NotAFunction())
                .ExcludeFromDescription();
        }

        return app;
    }
}
