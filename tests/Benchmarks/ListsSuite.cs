using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// <c>--suite lists</c>: the latency of the first page of the task and execution lists (plain, filtered by status,
/// sorted another way) as one workspace grows to 1,000, 10,000 and 50,000 tasks and runs, on the embedded SQLite
/// store and on Azure Storage (Azurite). The workspace grows through the public API only (tasks created, a small
/// workflow executed), so the numbers hold whatever the lists do underneath. Target: the first page at the largest
/// size no more than 1.5 times as slow (p50) as at 1,000, and the right page at every size.
/// </summary>
internal static class ListsSuite
{
    private const int WarmupRequests = 3;
    private const int MinRequests = 20;
    private const int PageSize = 20;
    private const double MaxGrowth = 1.5;
    private const int TaskWriters = 16;

    // Below Workflows:MaxRunningPerWorkspace (50): every run gets a slot at once, so the admission line stays empty
    // and execute never meets its 429 (it is still retried after a pause, should it come).
    private const int RunsInFlight = 40;
    private const int RunSubmitters = 8;
    private const int ProgressEvery = 2_000;
    private const int FailEvery = 4;
    private const string FilteredTaskStatus = "in_progress";
    private const string FilteredRunStatus = "failed";
    private static readonly int[] Sizes = [1_000, 10_000, 50_000];
    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset DueBase = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Verbs = ["review", "Draft", "update", "Fix", "plan", "Call", "migrate", "Test", "archive", "write", "Ship", "audit"];
    private static readonly string[] Nouns = ["invoice", "Roadmap", "release", "backlog", "Contract", "budget", "report", "Onboarding", "dashboard", "policy", "Survey", "deploy"];
    private static readonly string[] Tags = ["ops", "sales", "q1", "q2", "urgent-fix", "customer", "internal", "legal"];
    private static readonly string[] Priorities = ["low", "medium", "high", "urgent"];

    private static readonly Variant[] Variants =
    [
        new("tasks", "plain", "/api/v1/tasks?limit=20", (page, _) => Ordered(page, "createdAt", descending: true)),
        new("tasks", $"status={FilteredTaskStatus}", $"/api/v1/tasks?limit=20&status={FilteredTaskStatus}",
            (page, _) => AllHave(page, FilteredTaskStatus) ?? Ordered(page, "createdAt", descending: true)),
        new("tasks", "sortBy=name asc", "/api/v1/tasks?limit=20&sortBy=name&sortOrder=asc",
            (page, workspace) => First(page, "name", workspace.FirstTaskName) ?? Ordered(page, "name", descending: false)),
        new("executions", "plain", "/api/v1/executions?limit=20", (page, _) => Ordered(page, "createdAt", descending: true)),
        new("executions", $"status={FilteredRunStatus}", $"/api/v1/executions?limit=20&status={FilteredRunStatus}",
            (page, _) => AllHave(page, FilteredRunStatus) ?? Ordered(page, "createdAt", descending: true)),
        new("executions", "sortBy=createdAt asc", "/api/v1/executions?limit=20&sortBy=createdAt&sortOrder=asc",
            (page, workspace) => First(page, "id", workspace.FirstRunId) ?? Ordered(page, "createdAt", descending: false)),
    ];

    /// <summary>One measured list request; <c>Check</c> says what is wrong with a first page, or null.</summary>
    private sealed record Variant(string List, string Name, string Path, Func<JsonArray, Workspace, string?> Check);

    private sealed record Cell(string Store, Variant Variant, int Items, int Requests, double P50, double P99, string? Problem);

    private sealed record Growth(string Store, int Items, TimeSpan Tasks, TimeSpan Runs, double RssMb);

    /// <summary>What the suite has put in the workspace so far, and what the right first pages start with.</summary>
    private sealed class Workspace(string workflowId)
    {
        public string WorkflowId { get; } = workflowId;
        public int Tasks { get; set; }
        public int Runs { get; set; }
        public string? FirstTaskName { get; set; }
        public string? FirstRunId { get; set; }
    }

    public static async Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        var workDir = Directory.CreateTempSubdirectory("serverless-lists-bench-");
        ServerProcess? server = null;
        Azurite? azurite = null;
        try
        {
            var appDir = options.AppDir ?? await Publisher.PublishAsync(Path.Combine(workDir.FullName, "app"), ct);
            int[] sizes = [.. Sizes.Where(s => s < options.MaxItems), options.MaxItems];
            var cells = new List<Cell>();
            var growth = new List<Growth>();
            string[] stores = options.Store == BenchmarkOptions.BothStores ? [BenchmarkOptions.SqliteStore, BenchmarkOptions.AzuriteStore] : [options.Store];
            foreach (var store in stores)
            {
                var settings = new Dictionary<string, string>
                {
                    ["Triggers__Enabled"] = "true",
                    ["RateLimits__ExecutePerMinute"] = "10000000",
                    // Seeding Azurite to 50,000 runs takes longer than the default 15 minutes of one access token.
                    ["Auth__AccessTokenMinutes"] = "1440",
                };
                if (store == BenchmarkOptions.AzuriteStore)
                {
                    azurite = await Azurite.StartAsync(ct);
                    settings["Storage__Provider"] = "AzureStorage";
                    settings["Storage__ConnectionString"] = azurite.ConnectionString;
                }

                server = ServerProcess.Start(appDir, Path.Combine(workDir.FullName, $"data-{store}"), settings);
                await server.WaitUntilHealthyAsync(ct);
                await MeasureStoreAsync(store, server, sizes, options, cells, growth, ct);
                await server.DisposeAsync();
                server = null;
                if (azurite is not null)
                {
                    await azurite.DisposeAsync();
                    azurite = null;
                }
            }

            var (report, pass) = Render(options, sizes, cells, growth);
            await RunFiles.WriteReportAsync(report, options, ct);
            return pass ? 0 : 1;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Log("cancelled");
            return 130;
        }
        finally
        {
            await RunFiles.CleanUpAsync(server, workDir);
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }
        }
    }

    private static async Task MeasureStoreAsync(
        string store, ServerProcess server, int[] sizes, BenchmarkOptions options, List<Cell> cells, List<Growth> growth, CancellationToken ct)
    {
        var credentials = await ApiSetup.CreateCredentialsAsync(server.BaseAddress, ct);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        // The lists before the change read the whole partition: a slow answer is a measurement, not a failure.
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.AccessToken);

        var created = await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/workflows",
            new { name = "lists-bench", definition = FailingSometimes() }, HttpStatusCode.Created, ct);
        var workspace = new Workspace(created["data"]!["id"]!.GetValue<string>());
        foreach (var size in sizes)
        {
            Log($"{store}: growing the workspace to {size:N0} tasks and {size:N0} runs");
            var clock = Stopwatch.StartNew();
            await SeedTasksAsync(client, workspace, size, ct);
            var tasks = clock.Elapsed;
            Log($"{store}: tasks at {size:N0} after {tasks.TotalSeconds:F1} s");
            clock.Restart();
            await SeedRunsAsync(client, workspace, size, ct);
            var runs = clock.Elapsed;
            Log($"{store}: runs at {size:N0} after {runs.TotalSeconds:F1} s");
            growth.Add(new Growth(store, size, tasks, runs, server.ReadRssMegabytes()));
            await SettleAsync(server, store, ct);

            foreach (var variant in Variants)
            {
                var cell = await MeasureAsync(client, store, variant, workspace, size, options, ct);
                Log($"{store} {variant.List} {variant.Name} @ {size:N0}: p50 {cell.P50:F2} ms, p99 {cell.P99:F2} ms over {cell.Requests}{(cell.Problem is null ? "" : $"; wrong page: {cell.Problem}")}");
                cells.Add(cell);
            }
        }
    }

    /// <summary>
    /// Waits (at most <see cref="SettleLimit"/>) until the app uses under a tenth of a core for a second: seeding leaves work behind
    /// (garbage, SQLite checkpoints, queue pumps winding down) that would otherwise land on the first list measured.
    /// </summary>
    private static async Task SettleAsync(ServerProcess server, string store, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var used = CpuWindow.Read(server.Id);
        while (clock.Elapsed < SettleLimit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            var now = CpuWindow.Read(server.Id);
            if (now - used < TimeSpan.FromMilliseconds(100))
            {
                Log($"{store}: app idle after {clock.Elapsed.TotalSeconds:F0} s");
                return;
            }

            used = now;
        }

        Log($"{store}: app still busy after {SettleLimit.TotalSeconds:F0} s; measuring anyway");
    }

    /// <summary>start → condition → set → end; the condition's regex is an input, and an invalid one fails the run there.</summary>
    private static JsonObject FailingSometimes() => new()
    {
        ["nodes"] = new JsonArray
        {
            new JsonObject { ["id"] = "start", ["type"] = "start" },
            new JsonObject
            {
                ["id"] = "check", ["type"] = "condition",
                ["config"] = new JsonObject { ["conditions"] = new JsonArray { new JsonObject { ["left"] = "{{inputs.text}}", ["operator"] = "regex", ["right"] = "{{inputs.pattern}}" } } },
            },
            new JsonObject { ["id"] = "done", ["type"] = "set", ["config"] = new JsonObject { ["values"] = new JsonObject { ["n"] = "{{inputs.n}}" } } },
            new JsonObject { ["id"] = "end", ["type"] = "end", ["config"] = new JsonObject { ["outputs"] = new JsonObject { ["n"] = "{{done.n}}" } } },
        },
        ["edges"] = new JsonArray
        {
            new JsonObject { ["source"] = "start", ["target"] = "check" },
            new JsonObject { ["source"] = "check", ["target"] = "done", ["sourceHandle"] = "true" },
            new JsonObject { ["source"] = "done", ["target"] = "end" },
        },
    };

    private static async Task SeedTasksAsync(HttpClient client, Workspace workspace, int target, CancellationToken ct)
    {
        var gate = new object();
        await Parallel.ForAsync(workspace.Tasks, target, new ParallelOptions { MaxDegreeOfParallelism = TaskWriters, CancellationToken = ct }, async (i, token) =>
        {
            var task = NewTask(i);
            await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/tasks", task, HttpStatusCode.Created, token);
            lock (gate)
            {
                // The list sorts names case-insensitively; the names are unique, so no tie falls to the id.
                if (workspace.FirstTaskName is null || string.CompareOrdinal(task.Name.ToLowerInvariant(), workspace.FirstTaskName.ToLowerInvariant()) < 0)
                {
                    workspace.FirstTaskName = task.Name;
                }
            }
        });
        workspace.Tasks = target;
    }

    /// <summary>Task <paramref name="i"/>, the same on every run: statuses 40/25/25/10 %, four priorities, 70 % with a due date, 0–2 tags.</summary>
    private static TaskBody NewTask(int i)
    {
        var random = new Random(i);
        var status = random.Next(20) switch
        {
            < 8 => "not_started",
            < 13 => FilteredTaskStatus,
            < 18 => "completed",
            _ => "blocked",
        };
        var noun = Nouns[random.Next(Nouns.Length)];
        return new TaskBody(
            $"{Verbs[random.Next(Verbs.Length)]} {noun} {Nouns[random.Next(Nouns.Length)].ToLowerInvariant()} #{i}",
            $"Follow up on the {noun.ToLowerInvariant()} with the team; item {i}.",
            status,
            Priorities[random.Next(Priorities.Length)],
            random.Next(10) < 7 ? DueBase.AddDays(random.Next(-90, 270)).AddHours(random.Next(24)) : null,
            [.. Enumerable.Range(0, random.Next(3)).Select(_ => Tags[random.Next(Tags.Length)]).Distinct()]);
    }

    /// <summary>The body of <c>POST /api/v1/tasks</c> (JsonContent writes it camelCase).</summary>
    private sealed record TaskBody(string Name, string Description, string Status, string Priority, DateTimeOffset? DueDate, string[] Tags);

    /// <summary>
    /// Runs the workflow until the workspace has <paramref name="target"/> runs, every fourth failing: a window of
    /// <see cref="RunsInFlight"/> runs, refilled by <see cref="RunSubmitters"/> submitters as one watcher sees the
    /// oldest run end. Watching only the oldest costs about one GET per run, where every run polled for itself would
    /// load the store (Azurite above all) more than the runs do.
    /// </summary>
    private static async Task SeedRunsAsync(HttpClient client, Workspace workspace, int target, CancellationToken ct)
    {
        if (workspace.FirstRunId is null)
        {
            // Alone and finished before any other starts: the oldest run, which the ascending list must begin with.
            var first = await ExecuteAsync(client, workspace.WorkflowId, 0, ct);
            await WaitEndedAsync(client, first, 0, ct);
            workspace.FirstRunId = first;
            workspace.Runs = 1;
        }

        using var window = new SemaphoreSlim(RunsInFlight, RunsInFlight);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var submitted = Channel.CreateUnbounded<(string Id, int Index)>();
        var watcher = Task.Run(async () =>
        {
            try
            {
                var clock = Stopwatch.StartNew();
                var ended = 0;
                await foreach (var (id, index) in submitted.Reader.ReadAllAsync(stop.Token))
                {
                    await WaitEndedAsync(client, id, index, stop.Token);
                    window.Release();
                    // Seeding Azurite takes many minutes: say how far it got.
                    if (++ended % ProgressEvery == 0)
                    {
                        Log($"  {workspace.Runs + ended:N0} runs, {ended / clock.Elapsed.TotalSeconds:F0} runs/s");
                    }
                }
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }, ct);

        try
        {
            await Parallel.ForAsync(workspace.Runs, target, new ParallelOptions { MaxDegreeOfParallelism = RunSubmitters, CancellationToken = stop.Token }, async (i, token) =>
            {
                await window.WaitAsync(token);
                submitted.Writer.TryWrite((await ExecuteAsync(client, workspace.WorkflowId, i, token), i));
            });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The watcher stopped the submitters; awaiting it below throws why.
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
        finally
        {
            submitted.Writer.TryComplete();
        }

        await watcher;
        workspace.Runs = target;
    }

    private static bool Fails(int i) => i % FailEvery == FailEvery - 1;

    /// <summary>Polls run <paramref name="i"/> until it ends, and checks it ended as it should.</summary>
    private static async Task WaitEndedAsync(HttpClient client, string executionId, int i, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var run = await ApiSetup.SendAsync(client, HttpMethod.Get, $"/api/v1/executions/{executionId}", null, HttpStatusCode.OK, ct);
            var status = run["data"]!["status"]!.GetValue<string>();
            if (status is "succeeded" or "failed" or "cancelled" or "timed_out")
            {
                if (status != (Fails(i) ? "failed" : "succeeded"))
                {
                    throw new InvalidOperationException($"run {executionId} (#{i}) ended {status}: {run.ToJsonString()}");
                }

                return;
            }

            if (deadline.Elapsed > RunDeadline)
            {
                throw new TimeoutException($"run {executionId} (#{i}) still {status} after {RunDeadline}");
            }

            await Task.Delay(pause, ct);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 100));
        }
    }

    /// <summary>Starts run <paramref name="i"/> (its inputs make it fail or succeed); returns its id.</summary>
    private static async Task<string> ExecuteAsync(HttpClient client, string workflowId, int i, CancellationToken ct)
    {
        var body = new { inputs = new { text = $"run-{i}", pattern = Fails(i) ? "(" : "^run-\\d+$", n = i } };
        var pause = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workflows/{workflowId}/execute") { Content = JsonContent.Create(body) };
            using var response = await client.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return JsonNode.Parse(text)!["data"]!["executionId"]!.GetValue<string>();
            }

            if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                throw new InvalidOperationException($"execute: {(int)response.StatusCode}: {text}");
            }

            // The admission line is full: runs are ending, so room comes back soon.
            await Task.Delay(pause, ct);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 2_000));
        }
    }

    /// <summary>
    /// Warm-up requests for <c>--warmup</c>, at least <see cref="WarmupRequests"/> (the first one's page is checked), then one request at a
    /// time until <c>--iterations</c> or <c>--duration</c>, at least <see cref="MinRequests"/>.
    /// </summary>
    private static async Task<Cell> MeasureAsync(HttpClient client, string store, Variant variant, Workspace workspace, int size, BenchmarkOptions options, CancellationToken ct)
    {
        string? problem = null;
        var warmup = Stopwatch.StartNew();
        for (var i = 0; i < WarmupRequests || warmup.Elapsed < options.Warmup; i++)
        {
            var text = await GetAsync(client, variant.Path, ct);
            if (i == 0)
            {
                var page = JsonNode.Parse(text)!["data"]!.AsArray();
                problem = page.Count == PageSize ? variant.Check(page, workspace) : $"{page.Count} items, not {PageSize}";
            }
        }

        var ms = new List<double>();
        var clock = Stopwatch.StartNew();
        while (ms.Count < options.Iterations && (ms.Count < MinRequests || clock.Elapsed < options.Duration))
        {
            var started = Stopwatch.GetTimestamp();
            await GetAsync(client, variant.Path, ct);
            ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var sorted = ms.Order().ToArray();
        return new Cell(store, variant, size, sorted.Length, StorageBenchmark.Percentile(sorted, 0.5), StorageBenchmark.Percentile(sorted, 0.99), problem);
    }

    private static async Task<string> GetAsync(HttpClient client, string path, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.StatusCode == HttpStatusCode.OK ? text : throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}: {text}");
    }

    private static string? AllHave(JsonArray page, string status) =>
        page.FirstOrDefault(item => item!["status"]!.GetValue<string>() != status) is { } other ? $"an item is {other["status"]}" : null;

    private static string? First(JsonArray page, string field, string? expected)
    {
        var first = page[0]![field]!.GetValue<string>();
        return first == expected ? null : $"starts with {field} {first}, not {expected}";
    }

    /// <summary>Whether the page is in order by <paramref name="field"/>: timestamps as instants, names as the list compares them.</summary>
    private static string? Ordered(JsonArray page, string field, bool descending)
    {
        var keys = page.Select(item => item![field]!.GetValue<string>())
            .Select(v => field == "createdAt" ? DateTimeOffset.Parse(v, CultureInfo.InvariantCulture).UtcTicks.ToString("D20", CultureInfo.InvariantCulture) : v.ToLowerInvariant())
            .ToList();
        for (var i = 1; i < keys.Count; i++)
        {
            var c = string.CompareOrdinal(keys[i - 1], keys[i]);
            if (descending ? c < 0 : c > 0)
            {
                return $"not sorted by {field} {(descending ? "desc" : "asc")} at item {i}";
            }
        }

        return null;
    }

    private static (string Report, bool Pass) Render(BenchmarkOptions options, int[] sizes, List<Cell> cells, List<Growth> growth)
    {
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var (small, large) = (sizes[0], sizes[^1]);

        Line($"## List endpoints benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}. Load average when the run ended: {SuiteRun.LoadAverage()} (shared machine).");
        Line($"Published app (standalone, trigger host on), one workspace grown step by step through the public API to {string.Join(", ", sizes.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))} tasks and as many runs: tasks by `POST /api/v1/tasks` ({TaskWriters} writers; statuses 40 % not_started, 25 % in_progress, 25 % completed, 10 % blocked; four priorities; 70 % with a due date; 0–2 tags), runs by `POST /api/v1/workflows/{{id}}/execute` of start → condition → set → end, at most {RunsInFlight} in flight (the oldest watched with `GET /api/v1/executions/{{id}}`, so none waits for a slot); every {FailEvery}th run fails in the condition (an invalid regex), the rest succeed. SQLite = the embedded store (WAL file in a temp directory); Azure = Azure Storage on Azurite 3.37.0 in memory on the same machine.");
        Line($"At each size, once the app has gone idle after seeding (under a tenth of a core for a second, or {SettleLimit.TotalSeconds:0} s passed), per list and variant: warm-up requests for {options.Warmup.TotalSeconds:0.#} s, at least {WarmupRequests} (the first page is checked: {PageSize} items, in order, filter kept, and the sorted variants start with the oldest run / the first name), then `limit={PageSize}` requests one at a time over keep-alive loopback until {options.Iterations} or {options.Duration.TotalSeconds:0.#} s (at least {MinRequests}), timed to the last byte.");
        Line($"");
        Line($"| store | list | variant | items | requests | p50 ms | p99 ms | first page |");
        Line($"|---|---|---|---|---|---|---|---|");
        foreach (var c in cells.OrderBy(c => c.Store, StringComparer.Ordinal).ThenBy(c => Array.IndexOf(Variants, c.Variant)).ThenBy(c => c.Items))
        {
            Line($"| {StoreName(c.Store)} | {c.Variant.List} | {c.Variant.Name} | {c.Items:N0} | {c.Requests} | {c.P50:F2} | {c.P99:F2} | {c.Problem ?? "right"} |");
        }

        Line($"");
        Line($"| store | list | variant | p50 ms @ {small:N0} | p50 ms @ {large:N0} | ÷ | target | result |");
        Line($"|---|---|---|---|---|---|---|---|");
        var pass = true;
        foreach (var group in cells.GroupBy(c => (c.Store, c.Variant)).OrderBy(g => g.Key.Store, StringComparer.Ordinal).ThenBy(g => Array.IndexOf(Variants, g.Key.Variant)))
        {
            var first = group.Single(c => c.Items == small);
            var last = group.Single(c => c.Items == large);
            var ratio = last.P50 / first.P50;
            var wrong = group.Any(c => c.Problem is not null);
            var ok = ratio <= MaxGrowth && !wrong;
            pass &= ok;
            Line($"| {StoreName(group.Key.Store)} | {group.Key.Variant.List} | {group.Key.Variant.Name} | {first.P50:F2} | {last.P50:F2} | {ratio:F2} | ≤ {MaxGrowth:0.0#}, right page | {(ok ? "PASS" : wrong ? "FAIL (wrong page)" : "FAIL")} |");
        }

        Line($"");
        Line($"| store | grown to | s to add the tasks | s to add the runs | runs/s | app RSS MB after |");
        Line($"|---|---|---|---|---|---|");
        foreach (var (g, i) in growth.Select((g, i) => (g, i)))
        {
            var before = i > 0 && growth[i - 1].Store == g.Store ? growth[i - 1].Items : 0;
            Line($"| {StoreName(g.Store)} | {g.Items:N0} | {g.Tasks.TotalSeconds:F1} | {g.Runs.TotalSeconds:F1} | {(g.Items - before) / g.Runs.TotalSeconds:F0} | {g.RssMb:F0} |");
        }

        return (sb.ToString(), pass);
    }

    private static string StoreName(string store) => store == BenchmarkOptions.AzuriteStore ? "Azure (Azurite)" : "SQLite";

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
