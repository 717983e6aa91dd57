using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Store;

/// <summary>
/// The store (AutoGPT's marketplace): creators submit snapshots of their workflows, platform admins review them, approved
/// ones become listings anyone signed in can browse, rate and add to their own workspace.
/// </summary>
internal static class StoreFeature
{
    public static IServiceCollection AddStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddMemoryCache();
        services.AddSingleton<StoreData>();
        services.AddSingleton<IRunCompletionListener, StoreRunCounter>();
        return services;
    }

    public static IEndpointRouteBuilder MapStore(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<StoreOptions>>().Value;
        // The route admits the larger cap (plus room for multipart framing); each kind's own cap applies while it streams.
        var uploadLimit = new MediaSizeLimit(Math.Max(options.MaxImageBytes, options.MaxVideoBytes) + 64 * 1024);

        var agents = app.MapGroup("/api/v1/store/agents").WithTags("Store");
        agents.MapGet("/", ListStoreAgents.HandleAsync).WithName("ListStoreAgents")
            .WithSummary("Approved listings: search, category, sortBy=runs|rating|updatedAt|name (runs and rating most first unless sortOrder=asc), cursor or page+limit")
            .RequireScope(Scopes.StoreRead).Returns<IReadOnlyList<ListingCardDto>>().Errors(422);
        agents.MapGet("/{id}", GetStoreAgent.HandleAsync).WithName("GetStoreAgent")
            .WithSummary("One listing by id or slug: description, versions, creator, media, rating, runs and the latest version's graph")
            .RequireScope(Scopes.StoreRead).Returns<ListingDto>().Errors(404);
        agents.MapPost("/{id}/reviews", ReviewStoreAgent.HandleAsync).WithName("ReviewStoreAgent")
            .WithSummary("Rate a listing {rating: 1-5, comment?}; one review per user, posting again replaces it")
            .RequireScope(Scopes.StoreWrite).Produces(200).Errors(403, 404, 409, 422);
        agents.MapPost("/{id}/add", AddStoreAgent.HandleAsync).WithName("AddStoreAgent")
            .WithSummary("Copy a listed version {version?} into the workspace as a new workflow and a library agent")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<AddStoreAgent.Response>(201).Errors(404, 409);

        var submissions = app.MapGroup("/api/v1/store/submissions").WithTags("Store");
        submissions.MapPost("/", CreateStoreSubmission.HandleAsync).WithName("CreateStoreSubmission")
            .WithSummary("Submit a workflow version {workflowId, version?, name, slug, description, categories[], mediaIds[]}; credential references are stripped, literal secrets refused (422)")
            .RequireScope(Scopes.StoreWrite).RequireWorkspace(WorkspaceRole.Member).Returns<SubmissionDto>(201).Errors(404, 409, 422);
        submissions.MapGet("/", ListMyStoreSubmissions.HandleAsync).WithName("ListStoreSubmissions")
            .WithSummary("Your submissions, newest first, with status pending|approved|rejected and the reviewer's comment (filter status)")
            .RequireScope(Scopes.StoreRead).Returns<IReadOnlyList<SubmissionDto>>().Errors(422);
        submissions.MapDelete("/{id}", DeleteStoreSubmission.HandleAsync).WithName("DeleteStoreSubmission")
            .WithSummary("Withdraw a submission while it is pending (409 once reviewed)")
            .RequireScope(Scopes.StoreWrite).Produces(204).Errors(404, 409);

        var creators = app.MapGroup("/api/v1/store/creators").WithTags("Store");
        creators.MapGet("/", ListStoreCreators.HandleAsync).WithName("ListStoreCreators")
            .WithSummary("Creators with listings: search, sortBy=username|listings, cursor or page+limit")
            .RequireScope(Scopes.StoreRead).Returns<IReadOnlyList<CreatorDto>>().Errors(422);
        creators.MapGet("/{username}", GetStoreCreator.HandleAsync).WithName("GetStoreCreator")
            .WithSummary("A creator's profile, listings and totals (listings, runs, average rating)")
            .RequireScope(Scopes.StoreRead).Returns<CreatorDetailDto>().Errors(404);
        app.MapPut("/api/v1/store/profile", UpdateStoreProfile.HandleAsync).WithTags("Store").WithName("UpdateStoreProfile")
            .WithSummary("Create or change your creator profile {username (unique), name, description, links[], avatarMediaId}")
            .RequireScope(Scopes.StoreWrite).Returns<CreatorDto>().Errors(409, 422);

        var media = app.MapGroup("/api/v1/store/media").WithTags("Store");
        media.MapPost("/", UploadStoreMedia.HandleAsync).WithName("UploadStoreMedia")
            .WithSummary($"Upload an image or short video (multipart file or raw body; {MediaSniffer.Accepted}, recognised by content; images up to Store__MaxImageBytes, videos up to Store__MaxVideoBytes)")
            // No Accepts metadata: routing would answer a raw body's Content-Type (which is ignored here) with its own 415.
            .WithMetadata(uploadLimit)
            .RequireScope(Scopes.StoreWrite).Returns<MediaDto>(201).Errors(400, 413, 415, 422);
        media.MapGet("/{id}", GetStoreMedia.HandleAsync).WithName("GetStoreMedia")
            .WithSummary("The media file (anonymous: the unguessable id is the capability), with its sniffed type, immutable caching and an ETag")
            .AllowAnonymous().Produces(200).Produces(304).Errors(404);
        media.MapDelete("/{id}", DeleteStoreMedia.HandleAsync).WithName("DeleteStoreMedia")
            .WithSummary("Delete media you uploaded (409 while a listing or your profile shows it)")
            .RequireScope(Scopes.StoreWrite).Produces(204).Errors(404, 409);

        var admin = app.MapGroup("/api/v1/admin/store/submissions").WithTags("Admin");
        admin.MapGet("/", ListAdminStoreSubmissions.HandleAsync).WithName("ListAdminStoreSubmissions")
            .WithSummary("Platform admins: every submission with its sanitized graph, newest first (filter status)")
            .RequirePlatformAdmin().Returns<IReadOnlyList<AdminSubmissionDto>>().Errors(403, 422);
        admin.MapPost("/{id}/review", ReviewStoreSubmission.HandleAsync).WithName("ReviewStoreSubmission")
            .WithSummary("Platform admins: {decision: approve|reject, comment?}; approving creates the listing or its next version")
            .RequirePlatformAdmin().Returns<SubmissionDto>().Errors(403, 404, 409, 422);
        return app;
    }

    private sealed record MediaSizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
