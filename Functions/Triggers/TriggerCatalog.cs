using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Serverless.Functions.Triggers;

/// <summary>A timer or queue function as its attributes declare it.</summary>
/// <param name="Name">The function name.</param>
/// <param name="Schedule">The timer's NCRONTAB schedule; null for a queue function.</param>
/// <param name="RunOnStartup">Whether the timer also fires when the app starts.</param>
/// <param name="QueueName">The queue a queue function listens on; null for a timer.</param>
/// <param name="Method">The method both modes call.</param>
internal sealed record TriggerDefinition(string Name, string? Schedule, bool RunOnStartup, string? QueueName, MethodInfo Method);

/// <summary>A class of the app with timer or queue functions (registered by its owner: <c>AddTriggerFunctions&lt;T&gt;()</c>).</summary>
internal sealed record TriggerFunctionClass(Type Type);

/// <summary>
/// The app's timer and queue functions: the <c>[Function]</c> methods with a <c>[TimerTrigger]</c> or <c>[QueueTrigger]</c>
/// of the registered classes, read from their attributes (the same ones the Functions host reads). Invokes them the way
/// the worker does: a new scope and instance per invocation, the queue message's text and dequeue count bound by
/// parameter. Only the registered classes are read, which keeps reflection over the hundred HTTP functions out of
/// start-up; a test checks the registrations against a scan of the assembly (<see cref="Scan"/>).
/// </summary>
internal sealed class TriggerCatalog(IEnumerable<TriggerFunctionClass> classes)
{
    public IReadOnlyList<TriggerDefinition> All { get; } = Read(classes.Select(c => c.Type).Distinct());

    public TriggerDefinition Get(string name) =>
        All.FirstOrDefault(f => f.Name == name) ?? throw new ArgumentException($"No timer or queue function named {name}.", nameof(name));

    /// <summary>Every timer and queue function of every public class of <paramref name="assembly"/> (slow: tests and tools only).</summary>
    public static List<TriggerDefinition> Scan(Assembly assembly) => Read(assembly.GetExportedTypes());

    /// <summary>Runs one invocation; throws what the function throws (a queue message is then retried, then poisoned).</summary>
    /// <param name="message">A queue function's message text (ignored for timers).</param>
    /// <param name="dequeueCount">How many times the message has been delivered, this time included.</param>
    public static async Task InvokeAsync(
        IServiceProvider services, TriggerDefinition function, string? message, long dequeueCount, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var instance = ActivatorUtilities.CreateInstance(scope.ServiceProvider, function.Method.DeclaringType!);
        var arguments = function.Method.GetParameters().Select(p => p.ParameterType switch
        {
            var t when t == typeof(CancellationToken) => cancellationToken,
            var t when t == typeof(TimerInfo) => new TimerInfo { IsPastDue = false, ScheduleStatus = new ScheduleStatus { LastUpdated = time.GetUtcNow().UtcDateTime } },
            var t when t == typeof(string) => message ?? throw new ArgumentNullException(nameof(message), $"{function.Name} is a queue function; it needs a message."),
            // The Functions host binds its Durable client; standalone, the runs port needs none.
            var t when t == typeof(DurableTaskClient) => null!,
            _ => (object)dequeueCount,
        }).ToArray();

        Task invocation;
        try
        {
            invocation = (Task)function.Method.Invoke(instance, arguments)!;
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(exception.InnerException);
            throw;
        }

        await invocation;
    }

    private static List<TriggerDefinition> Read(IEnumerable<Type> classes)
    {
        var functions = new List<TriggerDefinition>();
        var methods = classes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .OrderBy(m => m.GetCustomAttribute<FunctionAttribute>()!.Name, StringComparer.Ordinal);
        foreach (var method in methods)
        {
            var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
            var parameters = method.GetParameters();
            var timer = parameters.Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).OfType<TimerTriggerAttribute>().SingleOrDefault();
            var queue = parameters.Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()).OfType<QueueTriggerAttribute>().SingleOrDefault();
            if (timer is null && queue is null)
            {
                // An HTTP function: the host routes it; the trigger host has nothing to do with it.
                continue;
            }

            if (timer is not null && queue is not null || method.ReturnType != typeof(Task)
                || parameters.Any(p => !(p.ParameterType == typeof(CancellationToken)
                    || (timer is not null && p.ParameterType == typeof(TimerInfo))
                    || (queue is not null && p.ParameterType == typeof(string))
                    || (queue is not null && p.ParameterType == typeof(long) && p.Name == "dequeueCount")
                    || p.ParameterType == typeof(DurableTaskClient) && p.GetCustomAttribute<DurableClientAttribute>() is not null)))
            {
                throw new InvalidOperationException(
                    $"Function {name} must return Task and take one timer (TimerInfo) or queue (string, optional long dequeueCount) trigger, optionally a [DurableClient], and a CancellationToken.");
            }

            functions.Add(new TriggerDefinition(name, timer?.Schedule, timer?.RunOnStartup ?? false, queue?.QueueName, method));
        }

        return functions;
    }
}
