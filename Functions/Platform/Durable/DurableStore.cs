using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.Data.Sqlite;
using Newtonsoft.Json;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Platform.Durable;

/// <summary>The part of an instance row that decides whether a message is delivered: which execution, in which state.</summary>
internal sealed record InstanceHead(string ExecutionId, OrchestrationStatus Status);

/// <summary>The instance columns that hold JSON, serialized before the write.</summary>
internal sealed record InstanceColumns(string? TagsJson, string? ParentJson);

/// <summary>A stored message or activity as loaded at start-up.</summary>
internal sealed record StoredMessage(long Id, string InstanceId, EventType EventType, long VisibleAt, string Json);

/// <summary>
/// The SQLite file behind <see cref="SqliteOrchestrationService"/>. Every write goes through one
/// <see cref="SqliteWriter{TConnection}"/> (group commit on one writer thread); reads run on a small pool of reader
/// connections, which WAL lets proceed while the writer commits.
/// </summary>
internal sealed class DurableStore : IDisposable
{
    private const int MaxIdleReaders = 8;

    // WITHOUT ROWID is not used: history rows and instance rows carry orchestration payloads of any size, which
    // SQLite stores better in a rowid table. AUTOINCREMENT keeps message and activity ids unique forever, so an id
    // a work item consumed can never name a newer message after a purge.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS instances (
            instance_id        TEXT    PRIMARY KEY,
            execution_id       TEXT    NOT NULL,
            name               TEXT    NOT NULL,
            version            TEXT,
            status             INTEGER NOT NULL,
            created_at         INTEGER NOT NULL,
            last_updated_at    INTEGER NOT NULL,
            completed_at       INTEGER,
            scheduled_start_at INTEGER,
            input              TEXT,
            output             TEXT,
            custom_status      TEXT,
            failure_details    TEXT,
            tags               TEXT,
            parent             TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_instances_completed ON instances (completed_at) WHERE completed_at IS NOT NULL;

        -- One row per checkpoint (an episode's new events as a JSON array): an episode inserts one row, and
        -- rebuilding an instance reads as many rows as it had episodes.
        CREATE TABLE IF NOT EXISTS history (
            instance_id  TEXT    NOT NULL,
            seq          INTEGER NOT NULL,
            execution_id TEXT    NOT NULL,
            json         TEXT    NOT NULL,
            PRIMARY KEY (instance_id, seq)
        );

        CREATE TABLE IF NOT EXISTS messages (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            instance_id  TEXT    NOT NULL,
            execution_id TEXT,
            event_type   INTEGER NOT NULL,
            visible_at   INTEGER NOT NULL,
            json         TEXT    NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_messages_instance ON messages (instance_id);

        CREATE TABLE IF NOT EXISTS activities (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            instance_id TEXT    NOT NULL,
            visible_at  INTEGER NOT NULL,
            json        TEXT    NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_activities_instance ON activities (instance_id);
        """;

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly ConcurrentBag<DurableConnection> _idleReaders = [];
    private readonly SqliteWriter<DurableConnection> _writer;
    private DurableConnection? _writeConnection;
    private volatile bool _disposed;

    public DurableStore(string databasePath, ILogger logger)
    {
        var fullPath = Path.GetFullPath(databasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        // Pooling off: this class keeps its own connections, and a disposed store must leave no handle on the file,
        // so the next store (or a test cleaning up) can open or delete it.
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _logger = logger;
        _writer = new SqliteWriter<DurableConnection>(
            "durable-sqlite-writer",
            (exception, count) => DurableLog.WriteFailed(logger, exception, count),
            exception => DurableLog.ApplyFailed(logger, exception));
    }

    /// <summary>Creates the schema and hands back the writer connection for loading; call <see cref="StartWriter"/> after.</summary>
    public DurableConnection Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // A start-up that failed half-way (an unreadable row) is tried again by the next call.
        _writeConnection?.Dispose();
        var connection = DurableConnection.Open(_connectionString);
        // journal_mode is stored in the file; WAL lets the readers run while the writer commits, and with
        // synchronous=NORMAL a commit is a write to the WAL without fsync: it survives the process being killed
        // (the OS has the pages), only a power loss can take the last commits.
        connection.Execute("PRAGMA journal_mode = WAL;" + Schema);
        _writeConnection = connection;
        return connection;
    }

    /// <summary>Hands the connection <see cref="Open"/> returned to the writer thread, which owns it from now on.</summary>
    public void StartWriter() => _writer.Start(_writeConnection!);

    /// <inheritdoc cref="SqliteWriter{TConnection}.WriteAsync{T}"/>
    public Task<T> WriteAsync<T>(Func<DurableConnection, T> execute, Action<T>? apply = null) => _writer.WriteAsync(execute, apply);

    /// <summary>Runs a read on a pooled reader connection (synchronously: SQLite has no asynchronous I/O to wait on).</summary>
    public T Read<T>(Func<DurableConnection, T> read)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idleReaders.TryTake(out var connection))
        {
            connection = DurableConnection.Open(_connectionString);
        }

        try
        {
            return read(connection);
        }
        finally
        {
            if (_disposed || _idleReaders.Count >= MaxIdleReaders)
            {
                connection.Dispose();
            }
            else
            {
                _idleReaders.Add(connection);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // The writer finishes what is queued, then closes the connection it owns (or it never started: ours to close).
        var started = _writer.Started;
        _writer.Dispose();
        _disposed = true;
        if (!started)
        {
            _writeConnection?.Dispose();
        }

        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }
}

/// <summary>
/// A <see cref="SqliteSession"/> with the queries of the orchestration store.
/// </summary>
internal sealed class DurableConnection : SqliteSession
{
    private DurableConnection(SqliteConnection connection)
        : base(connection)
    {
    }

    public static DurableConnection Open(string connectionString) => Open(connectionString, c => new DurableConnection(c));

    public InstanceHead? ReadHead(string instanceId)
    {
        var command = Command("SELECT execution_id, status FROM instances WHERE instance_id = $id");
        Bind(command, "$id", instanceId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new InstanceHead(reader.GetString(0), (OrchestrationStatus)reader.GetInt32(1)) : null;
    }

    public List<(long Seq, string Json)> ReadHistory(string instanceId)
    {
        var command = Command("SELECT seq, json FROM history WHERE instance_id = $id ORDER BY seq");
        Bind(command, "$id", instanceId);
        using var reader = command.ExecuteReader();
        var rows = new List<(long, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return rows;
    }

    public OrchestrationState? ReadState(string instanceId)
    {
        var command = Command("""
            SELECT execution_id, name, version, status, created_at, last_updated_at, completed_at, scheduled_start_at,
                   input, output, custom_status, failure_details, tags, parent
            FROM instances WHERE instance_id = $id
            """);
        Bind(command, "$id", instanceId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new OrchestrationState
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = reader.GetString(0) },
            Name = reader.GetString(1),
            Version = NullableString(reader, 2),
            OrchestrationStatus = (OrchestrationStatus)reader.GetInt32(3),
            CreatedTime = Utc(reader.GetInt64(4)),
            LastUpdatedTime = Utc(reader.GetInt64(5)),
            CompletedTime = reader.IsDBNull(6) ? DateTime.MaxValue : Utc(reader.GetInt64(6)),
            ScheduledStartTime = reader.IsDBNull(7) ? null : Utc(reader.GetInt64(7)),
            Input = NullableString(reader, 8),
            Output = NullableString(reader, 9),
            Status = NullableString(reader, 10),
            FailureDetails = DurableJson.FromPlain<FailureDetails>(NullableString(reader, 11)),
            Tags = DurableJson.FromPlain<Dictionary<string, string>>(NullableString(reader, 12)),
            ParentInstance = DurableJson.FromPlain<ParentInstance>(NullableString(reader, 13)),
        };
    }

    public void InsertInstance(ExecutionStartedEvent started, long now)
    {
        var command = Command("""
            INSERT INTO instances (instance_id, execution_id, name, version, status, created_at, last_updated_at,
                                   scheduled_start_at, input, tags, parent)
            VALUES ($id, $execution, $name, $version, $status, $now, $now, $scheduled, $input, $tags, $parent)
            """);
        Bind(command, "$id", started.OrchestrationInstance.InstanceId);
        Bind(command, "$execution", started.OrchestrationInstance.ExecutionId);
        Bind(command, "$name", started.Name ?? string.Empty);
        Bind(command, "$version", started.Version);
        Bind(command, "$status", (int)OrchestrationStatus.Pending);
        Bind(command, "$now", now);
        Bind(command, "$scheduled", started.ScheduledStartTime is { } at ? DurableJson.Ticks(at) : null);
        Bind(command, "$input", started.Input);
        Bind(command, "$tags", DurableJson.ToPlain(started.Tags));
        Bind(command, "$parent", DurableJson.ToPlain(started.ParentInstance));
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Writes an episode's outcome. <paramref name="columns"/> (input, tags, parent, as written by
    /// <see cref="InstanceColumns"/>) are only given when the execution changed (continue-as-new); otherwise what the
    /// start wrote stays.
    /// </summary>
    public void UpdateInstance(OrchestrationState state, bool terminal, string? failureJson, InstanceColumns? columns)
    {
        SqliteCommand command;
        if (columns is null)
        {
            command = Command("""
                UPDATE instances SET status = $status, last_updated_at = $updated, completed_at = $completed,
                    output = $output, custom_status = $custom, failure_details = $failure
                WHERE instance_id = $id
                """);
        }
        else
        {
            command = Command("""
                UPDATE instances SET execution_id = $execution, name = $name, version = $version, status = $status,
                    created_at = $created, last_updated_at = $updated, completed_at = $completed, input = $input,
                    output = $output, custom_status = $custom, failure_details = $failure, tags = $tags, parent = $parent
                WHERE instance_id = $id
                """);
            Bind(command, "$execution", state.OrchestrationInstance.ExecutionId);
            Bind(command, "$name", state.Name ?? string.Empty);
            Bind(command, "$version", state.Version);
            Bind(command, "$created", DurableJson.Ticks(state.CreatedTime));
            Bind(command, "$input", state.Input);
            Bind(command, "$tags", columns.TagsJson);
            Bind(command, "$parent", columns.ParentJson);
        }

        Bind(command, "$id", state.OrchestrationInstance.InstanceId);
        Bind(command, "$status", (int)state.OrchestrationStatus);
        Bind(command, "$updated", DurableJson.Ticks(state.LastUpdatedTime));
        Bind(command, "$completed", terminal ? DurableJson.Ticks(state.CompletedTime) : null);
        Bind(command, "$output", state.Output);
        Bind(command, "$custom", state.Status);
        Bind(command, "$failure", failureJson);
        command.ExecuteNonQuery();
    }

    public void InsertHistory(string instanceId, string executionId, long seq, string json)
    {
        var command = Command("INSERT INTO history (instance_id, seq, execution_id, json) VALUES ($id, $seq, $execution, $json)");
        Bind(command, "$id", instanceId);
        Bind(command, "$seq", seq);
        Bind(command, "$execution", executionId);
        Bind(command, "$json", json);
        command.ExecuteNonQuery();
    }

    public void DeleteHistory(string instanceId)
    {
        var command = Command("DELETE FROM history WHERE instance_id = $id");
        Bind(command, "$id", instanceId);
        command.ExecuteNonQuery();
    }

    public long InsertMessage(string instanceId, string? executionId, EventType eventType, long visibleAt, string json)
    {
        var command = Command("""
            INSERT INTO messages (instance_id, execution_id, event_type, visible_at, json)
            VALUES ($id, $execution, $type, $visible, $json) RETURNING id
            """);
        Bind(command, "$id", instanceId);
        Bind(command, "$execution", executionId);
        Bind(command, "$type", (int)eventType);
        Bind(command, "$visible", visibleAt);
        Bind(command, "$json", json);
        return (long)command.ExecuteScalar()!;
    }

    public void DeleteMessage(long id)
    {
        var command = Command("DELETE FROM messages WHERE id = $id");
        Bind(command, "$id", id);
        command.ExecuteNonQuery();
    }

    public long InsertActivity(string instanceId, long visibleAt, string json)
    {
        var command = Command("INSERT INTO activities (instance_id, visible_at, json) VALUES ($id, $visible, $json) RETURNING id");
        Bind(command, "$id", instanceId);
        Bind(command, "$visible", visibleAt);
        Bind(command, "$json", json);
        return (long)command.ExecuteScalar()!;
    }

    public void DeleteActivity(long id)
    {
        var command = Command("DELETE FROM activities WHERE id = $id");
        Bind(command, "$id", id);
        command.ExecuteNonQuery();
    }

    /// <summary>Removes an instance with its history, its messages and its queued activities; returns how many activities went.</summary>
    public int DeleteInstance(string instanceId)
    {
        var activities = 0;
        foreach (var sql in (ReadOnlySpan<string>)[
            "DELETE FROM history WHERE instance_id = $id",
            "DELETE FROM messages WHERE instance_id = $id",
            "DELETE FROM activities WHERE instance_id = $id",
            "DELETE FROM instances WHERE instance_id = $id"])
        {
            var command = Command(sql);
            Bind(command, "$id", instanceId);
            var deleted = command.ExecuteNonQuery();
            if (sql.Contains("activities", StringComparison.Ordinal))
            {
                activities = deleted;
            }
        }

        return activities;
    }

    /// <summary>Ids of the instances in a terminal state whose chosen time lies before <paramref name="threshold"/>.</summary>
    public List<string> SelectPurgeable(OrchestrationStateTimeRangeFilterType filter, long threshold)
    {
        var column = filter switch
        {
            OrchestrationStateTimeRangeFilterType.OrchestrationCreatedTimeFilter => "created_at",
            OrchestrationStateTimeRangeFilterType.OrchestrationLastUpdatedTimeFilter => "last_updated_at",
            _ => "completed_at",
        };
        // completed_at is set exactly for the terminal states (Completed, Failed, Terminated, Canceled).
        var command = Command($"SELECT instance_id FROM instances WHERE completed_at IS NOT NULL AND {column} < $threshold");
        Bind(command, "$threshold", threshold);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public List<StoredMessage> LoadMessages()
    {
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT id, instance_id, event_type, visible_at, json FROM messages ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<StoredMessage>();
        while (reader.Read())
        {
            rows.Add(new StoredMessage(reader.GetInt64(0), reader.GetString(1), (EventType)reader.GetInt32(2), reader.GetInt64(3), reader.GetString(4)));
        }

        return rows;
    }

    public List<StoredMessage> LoadActivities()
    {
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT id, instance_id, json FROM activities ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<StoredMessage>();
        while (reader.Read())
        {
            rows.Add(new StoredMessage(reader.GetInt64(0), reader.GetString(1), EventType.TaskScheduled, 0, reader.GetString(2)));
        }

        return rows;
    }

    /// <summary>Empties the queues and, with <paramref name="instances"/>, the instance store too.</summary>
    public void DeleteAll(bool instances)
    {
        Command("DELETE FROM messages").ExecuteNonQuery();
        Command("DELETE FROM activities").ExecuteNonQuery();
        if (instances)
        {
            Command("DELETE FROM history").ExecuteNonQuery();
            Command("DELETE FROM instances").ExecuteNonQuery();
        }
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTime Utc(long ticks) => new(ticks, DateTimeKind.Utc);
}

/// <summary>
/// The JSON the store writes: Newtonsoft.Json, as DTFx's types are made for it, but without type names. A history event
/// is written as <c>{"t": eventType, "e": {...}}</c> and read back as the DurableTask.Core class registered for that
/// event type, so nothing in the file can name a .NET type to instantiate; <c>$type</c> and other metadata properties
/// are ignored.
/// </summary>
internal static class DurableJson
{
    private static readonly JsonSerializerSettings PlainSettings = new()
    {
        TypeNameHandling = TypeNameHandling.None,
        MetadataPropertyHandling = MetadataPropertyHandling.Ignore,
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
        DateParseHandling = DateParseHandling.None,
        NullValueHandling = NullValueHandling.Ignore,
    };

    private static readonly JsonSerializer Plain = JsonSerializer.Create(PlainSettings);

    private static readonly JsonSerializer Typed = CreateTyped();

    private static readonly JsonSerializer Display = CreateDisplay();

    public static string SerializeEvents(IEnumerable<HistoryEvent> events) => Write(Typed, events, typeof(IEnumerable<HistoryEvent>));

    /// <summary>Appends the events of one stored history row to <paramref name="events"/>.</summary>
    public static void DeserializeEvents(string json, List<HistoryEvent> events)
    {
        foreach (var historyEvent in Read<List<HistoryEvent>>(Typed, json) ?? [])
        {
            events.Add(historyEvent ?? throw new JsonSerializationException("A stored history event is null."));
        }
    }

    public static string SerializeMessage(TaskMessage message) => Write(Typed, message, typeof(TaskMessage));

    public static TaskMessage DeserializeMessage(string json) => Read<TaskMessage>(Typed, json) is { Event: not null } message
        ? message
        : throw new JsonSerializationException("A stored task message has no event.");

    /// <summary>History as the client API shows it: plain JSON, enums by name (<c>"EventType": "TaskScheduled"</c>).</summary>
    public static string ToDisplay(object value) => Write(Display, value, value.GetType());

    /// <summary>Plain JSON for the instance columns (failure details, tags, parent).</summary>
    public static string? ToPlain(object? value) => value is null ? null : Write(Plain, value, value.GetType());

    public static T? FromPlain<T>(string? json) where T : class => json is null ? null : Read<T>(Plain, json);

    /// <summary>UTC ticks of a DTFx timestamp; DTFx works in UTC and marks unknown kinds as UTC too.</summary>
    public static long Ticks(DateTime value) => value.Kind == DateTimeKind.Local ? value.ToUniversalTime().Ticks : value.Ticks;

    private static JsonSerializer CreateTyped()
    {
        var serializer = JsonSerializer.Create(PlainSettings);
        serializer.Converters.Add(new HistoryEventConverter());
        return serializer;
    }

    private static JsonSerializer CreateDisplay()
    {
        var serializer = JsonSerializer.Create(PlainSettings);
        serializer.Converters.Add(new Newtonsoft.Json.Converters.StringEnumConverter());
        return serializer;
    }

    private static string Write(JsonSerializer serializer, object value, Type type)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        using (var writer = new JsonTextWriter(text))
        {
            serializer.Serialize(writer, value, type);
        }

        return text.ToString();
    }

    private static T? Read<T>(JsonSerializer serializer, string json)
    {
        using var reader = new JsonTextReader(new StringReader(json));
        return serializer.Deserialize<T>(reader);
    }

    private sealed class HistoryEventConverter : JsonConverter
    {
        // Every concrete HistoryEvent reports a constant EventType, so an uninitialised instance is enough to learn it.
        private static readonly Dictionary<EventType, Type> TypesByEventType = HistoryEvent.KnownTypes()
            .ToDictionary(type => ((HistoryEvent)RuntimeHelpers.GetUninitializedObject(type)).EventType);

        public override bool CanConvert(Type objectType) => typeof(HistoryEvent).IsAssignableFrom(objectType);

        public override void WriteJson(JsonWriter writer, object? value, JsonSerializer serializer)
        {
            if (value is not HistoryEvent historyEvent)
            {
                writer.WriteNull();
                return;
            }

            writer.WriteStartObject();
            writer.WritePropertyName("t");
            writer.WriteValue((int)historyEvent.EventType);
            writer.WritePropertyName("e");
            Plain.Serialize(writer, historyEvent, historyEvent.GetType());
            writer.WriteEndObject();
        }

        public override object? ReadJson(JsonReader reader, Type objectType, object? existingValue, JsonSerializer serializer)
        {
            if (reader.TokenType == JsonToken.Null)
            {
                return null;
            }

            Expect(reader, JsonToken.StartObject);
            Next(reader, JsonToken.PropertyName, "t");
            Next(reader, JsonToken.Integer, null);
            var eventType = (EventType)Convert.ToInt32(reader.Value, System.Globalization.CultureInfo.InvariantCulture);
            if (!TypesByEventType.TryGetValue(eventType, out var type) || !objectType.IsAssignableFrom(type))
            {
                throw new JsonSerializationException($"Unknown history event type {(int)eventType}.");
            }

            Next(reader, JsonToken.PropertyName, "e");
            Next(reader, JsonToken.StartObject, null);
            // Filled in place rather than built through a constructor: most events only have constructors with
            // parameters, which sends Json.NET down its slow path (buffer every property, then match them to
            // parameters). Their constructors only copy their arguments into the same properties.
            var value = RuntimeHelpers.GetUninitializedObject(type);
            Plain.Populate(reader, value);
            Next(reader, JsonToken.EndObject, null);
            return value;
        }

        private static void Next(JsonReader reader, JsonToken token, string? propertyName)
        {
            if (!reader.Read())
            {
                throw new JsonSerializationException("Unexpected end of a stored history event.");
            }

            Expect(reader, token);
            if (propertyName is not null && !string.Equals((string?)reader.Value, propertyName, StringComparison.Ordinal))
            {
                throw new JsonSerializationException("A stored history event has an unexpected shape.");
            }
        }

        private static void Expect(JsonReader reader, JsonToken token)
        {
            if (reader.TokenType != token)
            {
                throw new JsonSerializationException("A stored history event has an unexpected shape.");
            }
        }
    }
}
