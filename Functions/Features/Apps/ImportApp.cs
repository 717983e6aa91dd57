using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class ImportApp
{
    public static async Task<IResult> HandleAsync(AppBundle bundle, Caller caller, WorkspaceContext workspace, AppFactory factory, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(bundle.Format != AppBundle.FormatName, "format", $"format must be {AppBundle.FormatName} (the output of GET /api/v1/apps/{{id}}/export).")
            .When(bundle.FormatVersion is < 1 or > AppBundle.CurrentVersion, "formatVersion", $"formatVersion must be 1 to {AppBundle.CurrentVersion}.")
            .When(bundle.App is null, "app", "app is required.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var app = bundle.App!;
        var (created, error) = await factory.CreateAsync(workspace.WorkspaceId, caller.UserId, app.Name, app.Description, app.Type, AppStatus.Draft,
            app.Config, app.Tags, bundle.Workflow, cancellationToken);
        return error ?? Api.Created(AppDto.From(created!), $"/api/v1/apps/{created!.Id}");
    }
}
