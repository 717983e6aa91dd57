using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// <see cref="IWorkQueue"/> on the embedded SQLite database: all queues share the <c>queue_messages</c> table;
/// a lease is a <c>visible_at</c> in the future plus the pop receipt that proves who holds it.
/// </summary>
internal sealed class SqliteWorkQueue : IWorkQueue
{
    // A fresh random receipt per lease: a consumer whose lease expired and was taken over can no longer touch
    // the message, because the receipt it holds no longer matches.
    private const string NewReceipt = "lower(hex(randomblob(16)))";

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _timeProvider;

    public SqliteWorkQueue(SqliteDatabase database, TimeProvider? timeProvider = null)
    {
        _database = database;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public async Task<string> EnqueueAsync(string queue, string message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var wait = delay ?? TimeSpan.Zero;
        PortArguments.Enqueue(queue, message, wait);
        var id = Guid.NewGuid().ToString("D");
        var now = _timeProvider.GetUtcNow();
        await _database.WriteAsync(
            session => session.Command(
                """
                INSERT INTO queue_messages (queue, id, body, inserted_at, visible_at, dequeue_count, pop_receipt)
                VALUES ($queue, $id, $body, $now, $visibleAt, 0, NULL)
                """,
                ("$queue", queue), ("$id", id), ("$body", message),
                ("$now", now.ToUnixTimeMilliseconds()), ("$visibleAt", (now + wait).ToUnixTimeMilliseconds())).ExecuteNonQuery(),
            cancellationToken);
        return id;
    }

    public async Task<IReadOnlyList<QueueMessage>> DequeueAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Dequeue(queue, maxMessages, visibilityTimeout);
        var now = _timeProvider.GetUtcNow();
        var visibleAt = (now + visibilityTimeout).ToUnixTimeMilliseconds();

        // One statement selects and leases the batch. Writes run one after another on the writer, so concurrent
        // consumers never lease the same message twice.
        var leased = await _database.WriteAsync(
            session =>
            {
                using var reader = session.Command(
                    $"""
                    UPDATE queue_messages
                    SET visible_at = $visibleAt, dequeue_count = dequeue_count + 1, pop_receipt = {NewReceipt}
                    WHERE seq IN (
                        SELECT seq FROM queue_messages
                        WHERE queue = $queue AND visible_at <= $now
                        ORDER BY visible_at, seq
                        LIMIT $max)
                    RETURNING seq, id, pop_receipt, body, dequeue_count, inserted_at
                    """,
                    ("$queue", queue), ("$now", now.ToUnixTimeMilliseconds()),
                    ("$visibleAt", visibleAt), ("$max", maxMessages)).ExecuteReader();
                var rows = new List<(long Seq, QueueMessage Message)>(maxMessages);
                while (reader.Read())
                {
                    rows.Add((reader.GetInt64(0), new QueueMessage(
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetInt32(4),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                        DateTimeOffset.FromUnixTimeMilliseconds(visibleAt))));
                }

                return rows;
            },
            cancellationToken);

        // RETURNING yields rows in no promised order; enqueue order is what callers expect within a batch.
        leased.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return leased.ConvertAll(l => l.Message);
    }

    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        return await _database.WriteAsync(
            session => session.Command(
                "DELETE FROM queue_messages WHERE queue = $queue AND id = $id AND pop_receipt = $receipt",
                ("$queue", queue), ("$id", messageId), ("$receipt", popReceipt)).ExecuteNonQuery() == 1,
            cancellationToken);
    }

    public async Task<string?> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        PortArguments.Window(visibilityTimeout, nameof(visibilityTimeout));
        var visibleAt = _timeProvider.GetUtcNow() + visibilityTimeout;
        return await _database.WriteAsync(
            session => session.Command(
                $"""
                UPDATE queue_messages SET visible_at = $visibleAt, pop_receipt = {NewReceipt}
                WHERE queue = $queue AND id = $id AND pop_receipt = $receipt
                RETURNING pop_receipt
                """,
                ("$queue", queue), ("$id", messageId), ("$receipt", popReceipt), ("$visibleAt", visibleAt.ToUnixTimeMilliseconds())).ExecuteScalar() as string,
            cancellationToken);
    }

    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        PortArguments.Queue(queue);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(
            connection,
            "SELECT count(*) FROM queue_messages WHERE queue = $queue",
            ("$queue", queue));
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
