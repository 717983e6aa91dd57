using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Functions.Platform.Storage.AzureStorage;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class StoragePipelineTests
{
    private static readonly Uri Target = new("http://127.0.0.1:1/devstoreaccount1/c/b");

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task Send_TransientStatus_RetriesUntilAnAnswerThatIsNot(HttpStatusCode transient)
    {
        var handler = new ScriptedHandler(transient, transient, HttpStatusCode.Created);
        using var pipeline = Pipeline(handler, maxRetries: 4);

        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Put, Target), CancellationToken.None);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task Send_DefiniteAnswer_IsReturnedWithoutRetry(HttpStatusCode status)
    {
        var handler = new ScriptedHandler(status, HttpStatusCode.OK);
        using var pipeline = Pipeline(handler, maxRetries: 4);

        using var response = await pipeline.SendAsync(StorageService.Table, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

        Assert.Equal(status, response.StatusCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Send_TransientEveryTime_ReturnsTheLastAnswerAfterTheRetries()
    {
        var handler = new ScriptedHandler(Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 10).ToArray());
        using var pipeline = Pipeline(handler, maxRetries: 2);

        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task Send_AttemptTimesOut_IsRetriedAndTheNextAttemptAnswers()
    {
        var handler = new ScriptedHandler(HttpStatusCode.OK) { HangFirst = 1 };
        using var pipeline = Pipeline(handler, maxRetries: 2, attemptTimeout: TimeSpan.FromMilliseconds(200));

        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Send_NoAttemptAnswers_ThrowsStorageUnavailable()
    {
        var handler = new ScriptedHandler(HttpStatusCode.OK) { HangFirst = int.MaxValue };
        using var pipeline = Pipeline(handler, maxRetries: 1, attemptTimeout: TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAsync<StorageUnavailableException>(() =>
            pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Send_RetryAfterHeader_WaitsThatLong()
    {
        var handler = new ScriptedHandler(HttpStatusCode.TooManyRequests, HttpStatusCode.OK) { RetryAfter = TimeSpan.FromSeconds(1) };
        using var pipeline = Pipeline(handler, maxRetries: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var response = await pipeline.SendAsync(StorageService.Table, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"Retried after {clock.Elapsed}.");
    }

    [Fact]
    public async Task Send_EveryAttempt_IsAFreshlyDatedAndAuthorizedRequest()
    {
        var handler = new ScriptedHandler(HttpStatusCode.InternalServerError, HttpStatusCode.OK);
        using var pipeline = Pipeline(handler, maxRetries: 1);

        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

        Assert.All(handler.Requests, r =>
        {
            Assert.Equal(StoragePipeline.ApiVersion, r.Headers.GetValues("x-ms-version").Single());
            Assert.Single(r.Headers.GetValues("x-ms-date"));
            Assert.StartsWith("SharedKey devstoreaccount1:", r.Headers.Authorization?.ToString(), StringComparison.Ordinal);
        });
        Assert.NotEqual(handler.Requests[0].Headers.GetValues("x-ms-client-request-id").Single(), handler.Requests[1].Headers.GetValues("x-ms-client-request-id").Single());
    }

    private static StoragePipeline Pipeline(HttpMessageHandler handler, int maxRetries, TimeSpan? attemptTimeout = null) => new(
        handler,
        new SharedKeyAuthorizer(StorageAccount.DevelopmentAccountName, Convert.FromBase64String(StorageAccount.DevelopmentAccountKey)),
        maxRetries,
        attemptTimeout ?? TimeSpan.FromSeconds(10),
        TimeSpan.FromMilliseconds(1),
        NullLogger.Instance);

    /// <summary>Answers with the given statuses in turn (the last one repeats); can hang the first attempts until they are cancelled.</summary>
    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        private int _calls;

        public List<HttpRequestMessage> Requests { get; } = [];

        public int HangFirst { get; init; }

        public TimeSpan? RetryAfter { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            var call = Interlocked.Increment(ref _calls) - 1;
            if (call < HangFirst)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            var response = new HttpResponseMessage(statuses[Math.Min(call - HangFirst, statuses.Length - 1)]);
            if (RetryAfter is { } delay)
            {
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
            }

            return response;
        }
    }
}
