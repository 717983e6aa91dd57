namespace Serverless.Functions.Features.Webhooks;

/// <summary>
/// When a failed delivery is tried again: exponential backoff with up to 10 % jitter (so receivers coming back are not
/// hit by every retry at once), or the receiver's <c>Retry-After</c> when it gave one (capped). After the last step
/// of the schedule, about a day after the first attempt, the delivery is given up.
/// </summary>
internal static class WebhookRetries
{
    public static readonly IReadOnlyList<TimeSpan> Schedule =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8), TimeSpan.FromHours(8),
    ];

    /// <summary>The longest wait a <c>Retry-After</c> gets: a receiver cannot park a delivery for days.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(1);

    public const double MaxJitter = 0.1;

    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1: the first retry of the series), or null when the
    /// series is over. <paramref name="jitter"/> is a number in [0, 1).
    /// </summary>
    public static TimeSpan? Delay(int retry, TimeSpan? retryAfter, double jitter)
    {
        if (retry < 1 || retry > Schedule.Count)
        {
            return null;
        }

        if (retryAfter is { } asked)
        {
            return asked < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : asked > MaxRetryAfter ? MaxRetryAfter : asked;
        }

        return Schedule[retry - 1] * (1 + MaxJitter * jitter);
    }
}
