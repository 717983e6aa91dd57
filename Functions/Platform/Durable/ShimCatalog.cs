using System.Reflection;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;

namespace Serverless.Functions.Platform.Durable;

/// <summary>
/// The orchestrators and activities (Microsoft.DurableTask's <see cref="ITaskOrchestrator"/>/<see cref="ITaskActivity"/>)
/// a <see cref="TaskHubWorker"/> runs, registered through <see cref="DurableTaskShimFactory"/>. DTFx asks an
/// <see cref="ObjectCreator{T}"/> for a fresh object per episode or activity call, by name and version; the shims carry
/// per-execution state, so each call creates a new implementation and a new shim. Registrations have an empty version,
/// which is what starts without a version and activities called from them ask for.
/// </summary>
/// <remarks>
/// DTFx's object creator gets no context, so the shim cannot be told the parent of a sub-orchestration:
/// <c>TaskOrchestrationContext.Parent</c> is <c>null</c> in orchestrators run this way.
/// </remarks>
internal sealed class ShimCatalog
{
    private readonly DurableTaskShimFactory _factory;
    private readonly Dictionary<string, Func<ITaskOrchestrator>> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<ITaskActivity>> _activities = new(StringComparer.Ordinal);

    /// <param name="factory">Carries the data converter and logger factory the shims use; the default one uses System.Text.Json.</param>
    public ShimCatalog(DurableTaskShimFactory? factory = null) => _factory = factory ?? DurableTaskShimFactory.Default;

    public IReadOnlyCollection<string> Orchestrators => _orchestrators.Keys;

    public IReadOnlyCollection<string> Activities => _activities.Keys;

    public ShimCatalog AddOrchestrator(string name, Func<ITaskOrchestrator> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        if (!_orchestrators.TryAdd(name, create))
        {
            throw new ArgumentException($"An orchestrator named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>Registers <typeparamref name="TOrchestrator"/> under its <see cref="DurableTaskAttribute"/> name, or its class name.</summary>
    public ShimCatalog AddOrchestrator<TOrchestrator>() where TOrchestrator : ITaskOrchestrator, new() =>
        AddOrchestrator(NameOf(typeof(TOrchestrator)), () => new TOrchestrator());

    public ShimCatalog AddActivity(string name, Func<ITaskActivity> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        if (!_activities.TryAdd(name, create))
        {
            throw new ArgumentException($"An activity named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>Registers <typeparamref name="TActivity"/> under its <see cref="DurableTaskAttribute"/> name, or its class name.</summary>
    public ShimCatalog AddActivity<TActivity>() where TActivity : ITaskActivity, new() =>
        AddActivity(NameOf(typeof(TActivity)), () => new TActivity());

    /// <summary>Adds every registration to <paramref name="worker"/>; call before <see cref="TaskHubWorker.StartAsync"/>.</summary>
    public void Register(TaskHubWorker worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        worker.AddTaskOrchestrations([.. _orchestrators.Select(pair => (ObjectCreator<TaskOrchestration>)new OrchestrationCreator(_factory, pair.Key, pair.Value))]);
        worker.AddTaskActivities([.. _activities.Select(pair => (ObjectCreator<TaskActivity>)new ActivityCreator(_factory, pair.Key, pair.Value))]);
    }

    private static string NameOf(Type type) =>
        type.GetCustomAttribute<DurableTaskAttribute>()?.Name.Name is { Length: > 0 } name ? name : type.Name;

    private sealed class OrchestrationCreator : ObjectCreator<TaskOrchestration>
    {
        private readonly DurableTaskShimFactory _factory;
        private readonly Func<ITaskOrchestrator> _create;

        public OrchestrationCreator(DurableTaskShimFactory factory, string name, Func<ITaskOrchestrator> create)
        {
            _factory = factory;
            _create = create;
            Name = name;
            Version = string.Empty;
        }

        public override TaskOrchestration Create() => _factory.CreateOrchestration(Name, _create());
    }

    private sealed class ActivityCreator : ObjectCreator<TaskActivity>
    {
        private readonly DurableTaskShimFactory _factory;
        private readonly Func<ITaskActivity> _create;

        public ActivityCreator(DurableTaskShimFactory factory, string name, Func<ITaskActivity> create)
        {
            _factory = factory;
            _create = create;
            Name = name;
            Version = string.Empty;
        }

        public override TaskActivity Create() => _factory.CreateActivity(Name, _create());
    }
}
