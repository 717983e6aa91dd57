using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>The official OpenAI .NET client, pointed at our /v1, works unchanged.</summary>
public sealed class OpenAiClientTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task OfficialClient_ChatsStreamsEmbedsAndListsModels_ThroughTheGateway()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(fixture.Factory.CreateClient()),
        });
        var chat = client.GetChatClient("gpt-test");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("official")]);
        var streamed = new List<string>();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream")]))
        {
            streamed.AddRange(update.ContentUpdate.Select(p => p.Text));
        }

        var embedding = await client.GetEmbeddingClient("embed-test").GenerateEmbeddingAsync("text");
        var models = await client.GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal("echo: official", completion.Content[0].Text);
        Assert.Equal(15, completion.Usage.TotalTokenCount);
        Assert.Equal("Hello!", string.Concat(streamed));
        Assert.Equal(3, embedding.Value.ToFloats().Length);
        Assert.Contains(models.Value, m => m.Id == "gpt-test");
    }

    [Fact]
    public async Task OfficialClient_SeesOurErrorsAsClientResultExceptions()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(fixture.Factory.CreateClient()),
        });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("missing").CompleteChatAsync([new UserChatMessage("x")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("does not exist", error.Message);
    }
}
