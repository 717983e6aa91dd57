using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Acornima;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace Serverless.Orchestrations.Nodes;

/// <summary>The limits of one script run. Every one is hard: reaching it ends the run with a failure.</summary>
/// <param name="Timeout">Wall-clock time.</param>
/// <param name="MaxStatements">Statements executed.</param>
/// <param name="MemoryBytes">Managed memory allocated (not retained) while the script runs.</param>
/// <param name="RecursionDepth">Nested calls of one function.</param>
/// <param name="MaxOutputBytes">The returned value, serialized as UTF-8 JSON.</param>
public sealed record ScriptLimits(TimeSpan Timeout, int MaxStatements, long MemoryBytes, int RecursionDepth, int MaxOutputBytes);

/// <summary>Where a script failed, and why.</summary>
internal sealed record ScriptFailure(string Code, string Message, bool Retryable, int? Line = null, int? Column = null);

/// <summary>A script run's value (any JSON value, null included) or its failure.</summary>
internal sealed record ScriptOutcome(JsonNode? Value, ScriptFailure? Failure)
{
    public static ScriptOutcome Failed(ScriptFailure failure) => new(null, failure);
}

/// <summary>
/// Runs JavaScript (Jint) as the body of <c>function (inputs, nodes) { … }</c>, in a fresh engine per run that can reach
/// nothing of the host: no CLR interop, no modules, no <c>eval</c>, no timers or I/O (Jint has none unless a host adds them),
/// and no binary buffers or <c>Atomics</c> (their constructors allocate, or block, in one step no limit sees).
/// <para>
/// Jint checks its limits between statements, so the sandbox adds what one statement could otherwise get past: every
/// built-in string, array, object and JSON function checks the memory budget before it runs, the functions whose result
/// can be far larger than their input (<c>repeat</c>, <c>padStart</c>, <c>padEnd</c>, <c>replace</c>, <c>replaceAll</c>,
/// <c>concat</c>) refuse a result longer than <see cref="MaxStringLength"/>, the budget is checked again when the script
/// returns, and the host stops waiting at the time limit (plus a grace) even when a single built-in call runs on.
/// </para>
/// <para>
/// Scripts run on a few dedicated threads with large stacks (Jint's stack guard turns a too-deep recursion into a
/// <c>RangeError</c> instead of ending the process). A script that outlives its time keeps its thread until its current
/// built-in call returns, so at most <see cref="Concurrency"/> scripts use CPU at once; others wait for a thread.
/// </para>
/// </summary>
internal sealed class ScriptSandbox : IDisposable
{
    /// <summary>The first line of every script: the code's line 1 starts right after it, so its line numbers hold and columns of line 1 shift by its length.</summary>
    private const string Prefix = "(function (inputs, nodes) {";
    private const string Suffix = "\n})";
    private const int StackBytes = 16 * 1024 * 1024;
    private const int MaxCachedScripts = 512;

    /// <summary>How long past its time limit the host still waits for a script before giving up on it.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    // Removed from every engine: binary buffers and typed arrays allocate their whole length in one step, Atomics.wait
    // blocks, and weak references make a run depend on the garbage collector.
    private static readonly string[] RemovedGlobals =
    [
        "ArrayBuffer", "SharedArrayBuffer", "DataView", "Atomics", "WeakRef", "FinalizationRegistry",
        "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
        "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
    ];

    // The built-ins whose functions (static and on the prototype) check the memory budget before they run.
    private static readonly string[] GuardedNamespaces = ["String", "Array", "Object", "JSON", "RegExp"];

    private static readonly string[] GuardedGlobalFunctions = ["encodeURI", "encodeURIComponent", "decodeURI", "decodeURIComponent", "escape", "unescape"];

    private readonly ConcurrentDictionary<string, Prepared<Acornima.Ast.Script>> _scripts = new(StringComparer.Ordinal);
    private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Lock _startLock = new();
    private bool _started;

    /// <param name="concurrency">Scripts running at once (threads).</param>
    /// <param name="maxStringLength">The longest string <c>repeat</c>, <c>padStart</c>, <c>padEnd</c>, <c>replace</c>, <c>replaceAll</c> and <c>concat</c> may build.</param>
    public ScriptSandbox(int concurrency, int maxStringLength)
    {
        Concurrency = concurrency;
        MaxStringLength = maxStringLength;
    }

    public int Concurrency { get; }

    public int MaxStringLength { get; }

    /// <summary>The syntax error in <paramref name="code"/>, or null when it parses (the parsed script is kept for its runs).</summary>
    public ScriptFailure? CheckSyntax(string code) => Prepare(code).Failure;

    /// <summary>
    /// Runs <paramref name="code"/> with <c>inputs</c> and <c>nodes</c> parsed from <paramref name="argumentsJson"/>
    /// (<c>{"inputs": …, "nodes": …}</c>). Cancelling stops the script at its next statement and throws.
    /// </summary>
    public async Task<ScriptOutcome> RunAsync(string code, string argumentsJson, ScriptLimits limits, CancellationToken cancellationToken)
    {
        var (script, syntax) = Prepare(code);
        if (syntax is not null)
        {
            return ScriptOutcome.Failed(syntax);
        }

        EnsureStarted();
        var job = new Job(code, script!.Value, argumentsJson, limits, MaxStringLength, cancellationToken);
        await _jobs.Writer.WriteAsync(job, cancellationToken);
        await job.Started.Task.WaitAsync(cancellationToken);
        try
        {
            return await job.Done.Task.WaitAsync(limits.Timeout + Grace, cancellationToken);
        }
        catch (TimeoutException)
        {
            return ScriptOutcome.Failed(new ScriptFailure("CODE_TIMEOUT", $"The script did not finish within {limits.Timeout.TotalMilliseconds:0} ms.", Retryable: true));
        }
    }

    public void Dispose() => _jobs.Writer.TryComplete();

    private (Prepared<Acornima.Ast.Script>? Script, ScriptFailure? Failure) Prepare(string code)
    {
        if (_scripts.TryGetValue(code, out var cached))
        {
            return (cached, null);
        }

        Prepared<Acornima.Ast.Script> prepared;
        try
        {
            prepared = Engine.PrepareScript(Prefix + code + Suffix, strict: true);
        }
        catch (ScriptPreparationException exception)
        {
            return (null, SyntaxFailure(exception, code));
        }

        if (_scripts.Count >= MaxCachedScripts)
        {
            _scripts.Clear(); // a simple bound: workflows in use come back at their next run
        }

        _scripts[code] = prepared;
        return (prepared, null);
    }

    private static ScriptFailure SyntaxFailure(ScriptPreparationException exception, string code)
    {
        if (exception.InnerException is ParseErrorException parse)
        {
            var position = Locate(parse.LineNumber, parse.Column, code);
            var description = parse.LineNumber > code.Count(c => c == '\n') + 1
                ? "the code ends too early (a bracket, brace or string is not closed)"
                : parse.Description;
            return new ScriptFailure("CODE_SYNTAX_ERROR", $"SyntaxError: {description}{At(position)}", Retryable: false, position?.Line, position?.Column);
        }

        // Acornima refuses code nested deeper than it can parse safely before it runs out of stack.
        var reason = exception.InnerException?.Message ?? exception.Message;
        return new ScriptFailure("CODE_SYNTAX_ERROR", $"SyntaxError: the code cannot be parsed: {reason}", Retryable: false);
    }

    /// <summary>
    /// A position in the wrapped script (1-based line, 0-based column) as a position in the author's code (both 1-based);
    /// null for a position in the wrapper itself (where errors raised by the host's own guards are placed).
    /// </summary>
    private static (int Line, int Column)? Locate(int line, int column, string code)
    {
        var lines = code.Count(c => c == '\n') + 1;
        if (line > lines)
        {
            // The wrapper's closing line: an error found at the end of the input (an unclosed block) belongs to the code's end.
            var lastLine = code.LastIndexOf('\n') is var at and >= 0 ? code[(at + 1)..] : code;
            return (lines, lastLine.Length + 1);
        }

        if (line < 1 || line == 1 && column < Prefix.Length)
        {
            return null;
        }

        return (line, (line == 1 ? column - Prefix.Length : column) + 1);
    }

    private static string At((int Line, int Column)? position) => position is var (line, column) ? $" (line {line}, column {column})" : "";

    private void EnsureStarted()
    {
        lock (_startLock)
        {
            if (_started)
            {
                return;
            }

            for (var i = 0; i < Concurrency; i++)
            {
                new Thread(Work, StackBytes) { IsBackground = true, Name = $"code-node-{i}" }.Start();
            }

            _started = true;
        }
    }

    private void Work()
    {
        var reader = _jobs.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var job))
            {
                if (job.CancellationToken.IsCancellationRequested || !job.Started.TrySetResult())
                {
                    continue;
                }

                try
                {
                    job.Done.TrySetResult(Execute(job));
                }
                catch (OperationCanceledException exception)
                {
                    job.Done.TrySetCanceled(exception.CancellationToken);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    job.Done.TrySetException(exception);
                }
            }
        }
    }

    private static ScriptOutcome Execute(Job job)
    {
        var limits = job.Limits;
        var budget = new Budget(limits.MemoryBytes);
        try
        {
            var engine = new Engine(options =>
            {
                options.Strict()
                    .TimeoutInterval(limits.Timeout)
                    .MaxStatements(limits.MaxStatements)
                    .LimitMemory(limits.MemoryBytes)
                    .LimitRecursion(limits.RecursionDepth)
                    .CancellationToken(job.CancellationToken)
                    .DisableStringCompilation();
                options.Interop.Enabled = false;
                options.AgentCanSuspend = false;
                options.Constraints.StackOverflowGuard = true;
                options.Constraints.RegexTimeout = limits.Timeout;
                options.Constraints.PromiseTimeout = limits.Timeout;
                // An array's elements cost at least a reference each: no array may hold more than the budget could pay for.
                options.Constraints.MaxArraySize = (uint)Math.Clamp(limits.MemoryBytes / 8, 1024, uint.MaxValue);
            });
            Harden(engine, budget, job.MaxStringLength);

            var arguments = new JsonParser(engine).Parse(job.ArgumentsJson).AsObject();
            var function = engine.Evaluate(job.Script);
            budget.Start();
            var result = engine.Invoke(function, JsValue.Undefined, [arguments.Get("inputs"), arguments.Get("nodes")]);
            var outcome = Serialize(engine, result, limits.MaxOutputBytes);
            budget.Check();
            return outcome;
        }
        catch (JavaScriptException exception)
        {
            var position = Locate(exception.Location.Start.Line, exception.Location.Start.Column, job.Code);
            var message = exception.Error is JsValue error && error.IsObject() && error.AsObject().Get("name") is { } name && !name.IsUndefined()
                ? $"{name}: {exception.Message}"
                : $"Uncaught {exception.Message}";
            return ScriptOutcome.Failed(new ScriptFailure("CODE_ERROR", message + At(position), Retryable: false, position?.Line, position?.Column));
        }
        catch (ExecutionCanceledException) when (job.CancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(job.CancellationToken);
        }
        catch (InvalidOutputException exception)
        {
            return ScriptOutcome.Failed(new ScriptFailure("CODE_INVALID_OUTPUT", exception.Message, Retryable: false));
        }
        catch (Exception exception) when (LimitFailure(exception, limits, job.Code) is { } failure)
        {
            return ScriptOutcome.Failed(failure);
        }
    }

    private static ScriptFailure? LimitFailure(Exception exception, ScriptLimits limits, string code)
    {
        var (kind, text, retryable) = exception switch
        {
            TimeoutException => ("CODE_TIMEOUT", $"The script did not finish within {limits.Timeout.TotalMilliseconds:0} ms", true),
            StatementsCountOverflowException => ("CODE_STATEMENT_LIMIT", $"The script executed more than {limits.MaxStatements} statements", false),
            MemoryLimitExceededException or BudgetExceededException => ("CODE_MEMORY_LIMIT", $"The script allocated more than {limits.MemoryBytes} bytes", false),
            RecursionDepthOverflowException => ("CODE_RECURSION_LIMIT", $"The script's calls nested deeper than {limits.RecursionDepth}", false),
            OutOfMemoryException => ("CODE_MEMORY_LIMIT", "The script needed more memory than the process could give", false),
            _ => (null, null, false),
        };
        if (kind is null)
        {
            return null;
        }

        var position = JintException.TryGetJavaScriptLocation(exception, out var location) ? Locate(location.Start.Line, location.Start.Column, code) : null;
        return position is var (line, column)
            ? new ScriptFailure(kind, $"{text} (stopped at line {line}, column {column}).", retryable, line, column)
            : new ScriptFailure(kind, text + ".", retryable);
    }

    private static ScriptOutcome Serialize(Engine engine, JsValue result, int maxOutputBytes)
    {
        var kind = result switch
        {
            _ when result.IsUndefined() => "nothing (undefined); end the code with return <value>",
            _ when result.IsPromise() => "a Promise; the code runs synchronously (there is nothing to await), so return the value itself",
            _ when result.IsSymbol() => "a symbol",
            _ when result is Jint.Native.Function.Function => "a function",
            _ when result.IsBigInt() => "a BigInt; return it as a string or a number",
            _ => null,
        };
        if (kind is not null)
        {
            throw new InvalidOutputException($"The script returned {kind}. It must return a JSON value.");
        }

        JsValue json;
        try
        {
            json = new Jint.Native.Json.JsonSerializer(engine).Serialize(result, new ClrFunction(engine, "replacer", RejectNonJson), JsValue.Undefined);
        }
        catch (JavaScriptException exception) when (exception.Message.Contains("ircular", StringComparison.Ordinal) || exception.Message.Contains("yclic", StringComparison.Ordinal))
        {
            throw new InvalidOutputException("The script's output contains a cycle (an object that contains itself); it must be a JSON value.");
        }
        catch (JavaScriptException exception) when (exception.Message.Contains("BigInt", StringComparison.Ordinal))
        {
            throw new InvalidOutputException("The script's output contains a BigInt; convert it to a string or a number.");
        }

        var text = json is JsString s ? s.ToString() : "null";
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > maxOutputBytes)
        {
            return ScriptOutcome.Failed(new ScriptFailure("CODE_OUTPUT_TOO_LARGE", $"The script's output is {bytes} bytes as JSON; at most {maxOutputBytes} are kept.", Retryable: false));
        }

        try
        {
            return new ScriptOutcome(JsonNode.Parse(text), null);
        }
        catch (JsonException)
        {
            throw new InvalidOutputException("The script's output nests deeper than 64 levels.");
        }
    }

    /// <summary>JSON.stringify drops functions and symbols inside objects without a word; an output should not lose them silently.</summary>
    private static JsValue RejectNonJson(JsValue thisObject, JsValue[] arguments)
    {
        var key = arguments.Length > 0 ? arguments[0].ToString() : "";
        var value = arguments.Length > 1 ? arguments[1] : JsValue.Undefined;
        if (value is Jint.Native.Function.Function)
        {
            throw new InvalidOutputException($"The script's output holds a function at key '{key}'; it must be a JSON value.");
        }

        if (value.IsSymbol())
        {
            throw new InvalidOutputException($"The script's output holds a symbol at key '{key}'; it must be a JSON value.");
        }

        return value;
    }

    private static void Harden(Engine engine, Budget budget, int maxStringLength)
    {
        var global = engine.Global;
        foreach (var name in RemovedGlobals)
        {
            global.RemoveOwnProperty(name);
        }

        // Captured before the script runs: the script may replace the global RangeError.
        var guards = new Guards(engine, budget, maxStringLength, (Jint.Native.Error.ErrorConstructor)global.Get("RangeError"));
        foreach (var name in GuardedNamespaces)
        {
            var owner = global.Get(name).AsObject();
            guards.GuardAll(owner);
            if (owner.Get("prototype") is Jint.Native.Object.ObjectInstance prototype)
            {
                guards.GuardAll(prototype);
            }
        }

        foreach (var name in GuardedGlobalFunctions)
        {
            guards.Guard(global, name);
        }
    }

    /// <summary>Replaces built-in functions with wrappers that check the budget, and the result length where it can grow, before calling them.</summary>
    private sealed class Guards(Engine engine, Budget budget, int maxStringLength, Jint.Native.Error.ErrorConstructor rangeError)
    {
        public void GuardAll(Jint.Native.Object.ObjectInstance target)
        {
            foreach (var key in target.GetOwnPropertyKeys(Types.String))
            {
                Guard(target, key);
            }
        }

        public void Guard(Jint.Native.Object.ObjectInstance target, JsValue key)
        {
            var descriptor = target.GetOwnProperty(key);
            if (descriptor.Value is not Jint.Native.Function.Function original || original.IsConstructor())
            {
                return;
            }

            var name = key.ToString();
            var length = (int)TypeConverter.ToNumber(original.Get("length"));
            var wrapper = new ClrFunction(engine, name, (thisObject, arguments) =>
            {
                budget.Check();
                CheckResultLength(name, thisObject, arguments);
                return original.Call(thisObject, arguments);
            }, length);
            target.DefineOwnProperty(key, new Jint.Runtime.Descriptors.PropertyDescriptor(wrapper, descriptor.Writable, descriptor.Enumerable, descriptor.Configurable));
        }

        /// <summary>Refuses a call whose result would exceed the longest string allowed, before it is built.</summary>
        private void CheckResultLength(string name, JsValue thisObject, JsValue[] arguments)
        {
            double Argument(int i) => i < arguments.Length ? TypeConverter.ToNumber(arguments[i]) : 0;
            var self = thisObject as JsString;
            var projected = name switch
            {
                "repeat" when self is not null => self.Length * Math.Max(0, Argument(0)),
                "padStart" or "padEnd" => Argument(0),
                "replace" or "replaceAll" when self is not null && arguments.Length > 1 && arguments[1] is JsString replacement =>
                    // At most one match per position (an empty pattern matches between every two characters), and "$`"/"$'" insert up to the whole string.
                    self.Length + (self.Length + 1.0) * (replacement.Length + (replacement.ToString().Count(c => c == '$') * (double)self.Length)),
                "concat" when self is not null => self.Length + arguments.Sum(a => a is JsString s ? s.Length : 32.0),
                _ => 0,
            };
            if (projected > maxStringLength)
            {
                // A JavaScript RangeError, as for any string too long: the script may catch it.
                throw new JavaScriptException(rangeError, $"Invalid string length: {name} would build {projected:0} characters; the code node allows {maxStringLength}.");
            }
        }
    }

    /// <summary>The memory budget, read from the script thread's allocation counter (what Jint's own limit reads).</summary>
    private sealed class Budget(long limit)
    {
        private long _start = GC.GetAllocatedBytesForCurrentThread();

        public void Start() => _start = GC.GetAllocatedBytesForCurrentThread();

        public void Check()
        {
            if (GC.GetAllocatedBytesForCurrentThread() - _start > limit)
            {
                throw new BudgetExceededException();
            }
        }
    }

    private sealed class BudgetExceededException : Exception;

    private sealed class InvalidOutputException(string message) : Exception(message);

    private sealed class Job(string code, Prepared<Acornima.Ast.Script> script, string argumentsJson, ScriptLimits limits, int maxStringLength, CancellationToken cancellationToken)
    {
        public string Code { get; } = code;
        public Prepared<Acornima.Ast.Script> Script { get; } = script;
        public string ArgumentsJson { get; } = argumentsJson;
        public ScriptLimits Limits { get; } = limits;
        public int MaxStringLength { get; } = maxStringLength;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<ScriptOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
