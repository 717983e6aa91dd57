using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>POST /api/v1/analytics/export</c> → 202 with the export's id; the file is written in the background.</summary>
internal static class CreateExport
{
    internal sealed record Request(string? Kind, string? Format, DateTimeOffset? From, DateTimeOffset? To);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, AnalyticsExports exports, TimeProvider time, CancellationToken cancellationToken)
    {
        var to = request.To ?? time.GetUtcNow();
        var from = request.From ?? to.AddDays(-30);
        var check = new Validator()
            .When(request.Kind is null || !AnalyticsExports.Kinds.Contains(request.Kind), "kind", $"kind must be one of {string.Join(", ", AnalyticsExports.Kinds)}.")
            .When(request.Format is not null && !AnalyticsExports.Formats.Contains(request.Format), "format", "format must be csv or json.")
            .When(to <= from, "from", "from must be before to.")
            .When(to - from > TimeSpan.FromDays(400), "from", "An export may span at most 400 days.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var job = await exports.StartAsync(workspace.WorkspaceId, request.Kind!, request.Format ?? "csv", from, to, caller.UserId, cancellationToken);
        return Api.Accepted(ExportView.Of(job, null));
    }
}

/// <summary>An export as shown: its status and, once completed, a download link valid until <c>expiresAt</c>.</summary>
internal sealed record ExportView(
    string Id, string Kind, string Format, DateTimeOffset From, DateTimeOffset To, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt,
    long? Rows, long? Bytes, string? Error, string? DownloadUrl, DateTimeOffset? ExpiresAt)
{
    public static ExportView Of(ExportRecord job, (string Url, DateTimeOffset ExpiresAt)? link) => new(
        job.Id, job.Kind, job.Format, job.From, job.To, job.Status, job.CreatedAt, job.CompletedAt, job.Rows, job.Bytes, job.Error, link?.Url, link?.ExpiresAt);
}

internal static class GetExport
{
    public static async Task<IResult> HandleAsync(string id, HttpRequest request, WorkspaceContext workspace, AnalyticsExports exports, CancellationToken cancellationToken)
    {
        if (await exports.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } job)
        {
            return Api.NotFound("The export was not found.");
        }

        (string, DateTimeOffset)? link = null;
        if (job.Status == ExportStatus.Completed)
        {
            var (path, expiresAt) = exports.Link(job);
            link = ($"{request.Scheme}://{request.Host}{request.PathBase}{path}", expiresAt);
        }

        return Api.Ok(ExportView.Of(job, link));
    }
}

/// <summary>The signed, expiring download link: no credential needed, a wrong or expired signature is 403.</summary>
internal static class DownloadExport
{
    public static async Task<IResult> HandleAsync(
        string id, string? workspace, long? expires, string? signature, AnalyticsExports exports, CancellationToken cancellationToken)
    {
        if (workspace is null || expires is null || signature is null || !exports.Verify(workspace, id, expires.Value, signature))
        {
            return Api.Forbidden("The download link is invalid or has expired; ask GET /api/v1/analytics/exports/{id} for a new one.");
        }

        if (await exports.GetAsync(workspace, id, cancellationToken) is not { Status: ExportStatus.Completed } job
            || await exports.OpenAsync(job, cancellationToken) is not { } file)
        {
            return Api.NotFound("The export was not found.");
        }

        return Results.Stream(file.Content, AnalyticsExports.ContentType(job.Format), AnalyticsExports.FileName(job));
    }
}
