using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class UpdateApp
{
    /// <summary>Any subset; config fields given replace those stored, the others stay. The type is fixed at creation.</summary>
    internal sealed record Request(string? Name, string? Description, string? Type, string? Status, AppConfig? Config, IReadOnlyList<string>? Tags);

    public static async Task<IResult> HandleAsync(string id, Request request, WorkspaceContext workspace, AppStore apps, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(request.Name is not null && string.IsNullOrWhiteSpace(request.Name), "name", "name cannot be empty.")
            .MaxLength("name", request.Name, 200)
            .MaxLength("description", request.Description, 2000)
            .When(request.Status is not null && !AppStatus.IsValid(request.Status), "status", "status must be draft or published.")
            .CheckConfig(request.Config)
            .CheckTags(request.Tags);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await apps.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } current)
            {
                return Api.NotFound("The app was not found.");
            }

            var app = current.Value;
            if (request.Type is not null && request.Type != app.Type)
            {
                return Api.Validation("type", "An app's type cannot change; create a new app instead.");
            }

            var config = request.Config is not { } c ? app.Config : new AppConfig(
                c.Model ?? app.Config.Model, c.Temperature ?? app.Config.Temperature, c.MaxTokens ?? app.Config.MaxTokens,
                c.SystemPrompt ?? app.Config.SystemPrompt, c.DatasetIds ?? app.Config.DatasetIds);
            var updated = app with
            {
                Name = request.Name?.Trim() ?? app.Name,
                Description = request.Description ?? app.Description,
                Status = request.Status ?? app.Status,
                Config = config,
                Tags = request.Tags ?? app.Tags,
            };
            if (await apps.SaveAsync(current, updated, cancellationToken) is { } saved)
            {
                return Api.Ok(AppDto.From(saved));
            }
        }

        return Api.Conflict("The app changed while it was being updated; try again.");
    }
}
