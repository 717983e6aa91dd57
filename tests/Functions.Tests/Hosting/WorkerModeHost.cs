using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Functions.Hosting;
using Serverless.Functions.Platform.Durable;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Hosting;

/// <summary>
/// The app in worker mode, without a Functions host: the service provider the isolated worker builds
/// (<see cref="WorkerHost.CreateBuilder"/>, the same call the process makes), the platform's own hosted services started,
/// and an <see cref="HttpClient"/> that plays the host's part for HTTP functions: it routes each request by the
/// <c>[HttpTrigger]</c> routes and methods (what functions.metadata carries), invokes that function's method with a real
/// <see cref="HttpContext"/>, and returns what the function wrote. It stands in for the host's Durable extension too: the
/// standalone Durable Task host runs the workflow orchestrations on the worker's services, and every function's
/// <c>[DurableClient]</c> gets a <see cref="HostedDurableClient"/> over it.
/// </summary>
public sealed class WorkerModeHost : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "platform-tests", "worker-" + Guid.NewGuid().ToString("N"));
    private IHost? _host;
    private List<IHostedService> _started = [];

    public IServiceProvider Services => _host!.Services;

    public CapturedMail Mail { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Settings reach the worker the way the Functions host hands them over: as configuration the builder reads.
        var builder = WorkerHost.CreateBuilder(
        [
            // What the host passes on the command line (--functions-uri …); nothing listens there: the gRPC side is never started.
            "--Functions:Worker:HostEndpoint=http://127.0.0.1:9",
            "--Functions:Worker:WorkerId=test-worker",
            "--Functions:Worker:RequestId=test-request",
            "--Functions:Worker:GrpcMaxMessageLength=2147483647",
            $"--Storage:DataDirectory={_dataDirectory}",
            "--Auth:PasswordHashIterations=1000",
            "--RateLimits:AuthPerMinutePerIp=5",
            "--RateLimits:GeneralPerMinute=100000",
            "--Models:Discover=false",
        ]);
        builder.Services.RemoveAll<IEmailSender>();
        builder.Services.AddSingleton<IEmailSender>(Mail);
        // The Durable extension's part: the orchestrator and activities on the standalone host (an embedded SQLite
        // backend in the data directory), started with the platform's hosted services below.
        builder.Services.AddSingleton<StandaloneDurableHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StandaloneDurableHost>());
        _host = builder.Build();
        var durable = new HostedDurableClient(_host.Services.GetRequiredService<StandaloneDurableHost>());
        // The worker's own hosted services talk to a Functions host over gRPC; only the platform's are started.
        _started = [.. _host.Services.GetServices<IHostedService>().Where(s => s.GetType().Assembly == typeof(FunctionRequests).Assembly)];
        // Activities that signal other runs (EndRun) bind [DurableClient] under the host; here the client is current for
        // everything the hosted services start, the Durable Task worker's dispatchers included.
        using (DurableClientScope.Enter(durable))
        {
            foreach (var service in _started)
            {
                await service.StartAsync(CancellationToken.None);
            }
        }

        Client = new HttpClient(new FunctionsHostHandler(_host.Services, durable)) { BaseAddress = new Uri("http://localhost:7071") };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        foreach (var service in _started)
        {
            await service.StopAsync(CancellationToken.None);
        }

        // The Durable Task host is IAsyncDisposable only, so the container must be disposed asynchronously.
        if (_host is IAsyncDisposable host)
        {
            await host.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Request option: the client address the function sees (the host forwards the caller's); default: a new one per request.</summary>
    public static readonly HttpRequestOptionsKey<IPAddress> RemoteAddress = new("remote-address");

    private sealed class FunctionsHostHandler(IServiceProvider services, DurableTaskClient durable) : HttpMessageHandler
    {
        private readonly List<(string Name, HashSet<string> Methods, TemplateMatcher Matcher, MethodInfo Method)> _functions = Read();

        private static List<(string, HashSet<string>, TemplateMatcher, MethodInfo)> Read() =>
        [
            .. typeof(HttpFunctions).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Select(m => (Method: m, Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).OfType<HttpTriggerAttribute>().Single()))
                .Select(f => (Template: TemplateParser.Parse(f.Trigger.Route!), f.Method, f.Trigger))
                // Like any router: literal segments win over parameters.
                .OrderBy(f => RoutePrecedence.ComputeInbound(f.Template))
                .Select(f => (f.Method.GetCustomAttribute<FunctionAttribute>()!.Name,
                    new HashSet<string>(f.Trigger.Methods!, StringComparer.OrdinalIgnoreCase),
                    new TemplateMatcher(f.Template, new RouteValueDictionary()), f.Method)),
        ];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            var function = _functions.FirstOrDefault(f => f.Methods.Contains(request.Method.Method) && f.Matcher.TryMatch(path, []));
            if (function.Method is null)
            {
                // The host answers a request no function routes with a bare 404.
                return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request };
            }

            await using var scope = services.CreateAsyncScope();
            var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            context.Request.Method = request.Method.Method;
            context.Request.Scheme = "http";
            context.Request.Host = new HostString(request.RequestUri.Authority);
            context.Request.Path = path;
            context.Request.QueryString = new QueryString(request.RequestUri.Query);
            // A caller of its own per request unless the test names one, so per-address rate limits only bite where a test wants them.
            context.Connection.RemoteIpAddress = request.Options.TryGetValue(RemoteAddress, out var remote)
                ? remote : new IPAddress([10, (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(256), (byte)Random.Shared.Next(1, 255)]);
            foreach (var (name, values) in request.Headers)
            {
                context.Request.Headers[name] = values.ToArray();
            }

            var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            if (request.Content is not null)
            {
                foreach (var (name, values) in request.Content.Headers)
                {
                    context.Request.Headers[name] = values.ToArray();
                }

                context.Request.ContentLength = body.Length;
            }

            context.Request.Body = new MemoryStream(body);
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(body.Length > 0));
            var responseBody = new MemoryStream();
            context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody));
            context.RequestAborted = cancellationToken;

            var instance = ActivatorUtilities.CreateInstance<HttpFunctions>(scope.ServiceProvider);
            var result = await (Task<IActionResult>)function.Method.Invoke(instance, [.. function.Method.GetParameters().Select(p => p.ParameterType == typeof(DurableTaskClient) ? durable : (object)context.Request)])!;
            Assert.IsType<EmptyResult>(result);

            var response = new HttpResponseMessage((HttpStatusCode)context.Response.StatusCode)
            {
                RequestMessage = request,
                Content = new ByteArrayContent(responseBody.ToArray()),
            };
            foreach (var (name, values) in context.Response.Headers)
            {
                if (!response.Headers.TryAddWithoutValidation(name, values.ToArray()))
                {
                    response.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }

            return response;
        }
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => canHaveBody;
    }
}
