using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Scheduling;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal static class CreateTrigger
{
    private const string HookPath = "/api/v1/hooks/";

    /// <summary>The body's shape, for the API description (the handler reads the JSON itself).</summary>
    internal sealed record Request(string Type, bool? Active, JsonObject? Inputs, string? Cron, string? Timezone, string? Respond, bool? Secret);

    public static async Task<IResult> HandleAsync(
        string id, JsonObject? body, HttpRequest http, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, TriggerStore triggers,
        SecretProtector protector, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        if (!StoreKeys.IsValidKey(id) || await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The workflow was not found.");
        }

        var check = new Validator();
        var type = Text(body, "type", check);
        var active = check.Flag(body, "active") ?? true;
        var inputs = check.ObjectOrEmpty(body["inputs"], "inputs");
        check.When(type is not (TriggerTypes.Schedule or TriggerTypes.Webhook), "type", "type must be schedule or webhook.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if ((await triggers.ListAsync(workspace.WorkspaceId, id, cancellationToken)).Count >= TriggerStore.MaxPerWorkflow)
        {
            return Api.Conflict($"A workflow has at most {TriggerStore.MaxPerWorkflow} triggers; delete one first.");
        }

        var now = time.GetUtcNow();
        var trigger = new TriggerRecord(Secrets.NewId("trg"), workspace.WorkspaceId, id, type!, active, inputs, null, null, null, null, null,
            null, null, null, null, caller.UserId, now);
        string? url = null;
        string? signingSecret = null;
        if (type == TriggerTypes.Schedule)
        {
            var cron = CronSchedule.Parse(Text(body, "cron", check));
            var zoneId = Text(body, "timezone", check) ?? "UTC";
            var zone = CronSchedule.FindZone(zoneId);
            check.When(cron is null, "cron", "cron must be a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first).")
                .When(zone is null, "timezone", "timezone must be an IANA time zone such as Europe/Berlin.");
            var next = cron is null || zone is null ? null : cron.NextAfter(now, zone);
            check.When(cron is not null && zone is not null && next is null, "cron", "The cron expression never fires.");
            if (!check.IsValid)
            {
                return check.ToResult();
            }

            trigger = trigger with { Cron = cron!.Expression, Timezone = zoneId, NextRunAt = active ? next : null };
        }
        else
        {
            var respond = Text(body, "respond", check) ?? TriggerTypes.Immediately;
            var signed = check.Flag(body, "secret") ?? false;
            check.When(respond is not (TriggerTypes.Immediately or TriggerTypes.WhenFinished), "respond", "respond must be immediately or when_finished.");
            if (!check.IsValid)
            {
                return check.ToResult();
            }

            var token = Secrets.NewToken();
            url = $"{http.Scheme}://{http.Host}{http.PathBase}{HookPath}{token}";
            signingSecret = signed ? PayloadSignature.NewSecret() : null;
            trigger = trigger with
            {
                Respond = respond,
                TokenHash = Secrets.Hash(token),
                UrlHint = url[^4..],
                SealedSecret = signingSecret is null ? null : protector.Protect(signingSecret, SigningPurpose(trigger.Id)),
            };
        }

        await triggers.CreateAsync(trigger, cancellationToken);
        return Api.Created(TriggerDto.From(trigger, url, signingSecret), $"/api/v1/workflows/{id}/triggers/{trigger.Id}");
    }

    /// <summary>What a trigger's signing secret is sealed for, so a sealed value copied to another trigger does not open.</summary>
    public static string SigningPurpose(string triggerId) => "workflow-trigger-signing:" + triggerId;

    private static string? Text(JsonObject body, string field, Validator check)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            check.Add(field, $"{field} must be a string.");
            return null;
        }

        return node.GetValue<string>();
    }
}
