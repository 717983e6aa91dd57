using NCrontab;

namespace Serverless.Functions.Platform.Scheduling;

/// <summary>
/// A cron expression (five fields, or six with seconds first) read on the wall clock of a time zone. Occurrences are
/// found on local time and then placed on the time line: a slot in the hour skipped when clocks go forward fires once
/// at the first valid instant after the gap; a slot in the hour repeated when clocks go back fires once, on its first
/// pass.
/// </summary>
internal sealed class CronSchedule
{
    private const int MaxSteps = 10_000;

    // Wide enough for the rarest expression (29 February on a given weekday); a schedule with no slot in it never fires.
    private const int HorizonYears = 30;

    private static readonly TimeSpan[] CatchUpWindows =
        [TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(32), TimeSpan.FromDays(367), TimeSpan.FromDays(366 * HorizonYears)];

    private readonly CrontabSchedule _schedule;

    private CronSchedule(CrontabSchedule schedule, string expression)
    {
        _schedule = schedule;
        Expression = expression;
    }

    public string Expression { get; }

    /// <summary>The schedule, or null when the text is not a five- or six-field cron expression.</summary>
    public static CronSchedule? Parse(string? expression)
    {
        var fields = (expression ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length is not (5 or 6))
        {
            return null;
        }

        var normalized = string.Join(' ', fields);
        var schedule = CrontabSchedule.TryParse(normalized, new CrontabSchedule.ParseOptions { IncludingSeconds = fields.Length == 6 });
        return schedule is null ? null : new CronSchedule(schedule, normalized);
    }

    /// <summary>The time zone with this IANA id (or the system's other spelling of it), or null when there is none.</summary>
    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The first slot strictly after <paramref name="instant"/>, or null when the schedule never fires again.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var horizon = local.AddYears(HorizonYears);
        for (var step = 0; step < MaxSteps; step++)
        {
            var candidate = _schedule.GetNextOccurrence(local, horizon);
            if (candidate >= horizon)
            {
                return null;
            }

            // Skipped slots collapse onto the end of the gap, repeated ones onto their first pass: both may land at or
            // before the instant we started from, and then they have already fired.
            var at = ToInstant(candidate, zone);
            if (at > instant)
            {
                return at;
            }

            local = candidate;
        }

        return null;
    }

    /// <summary>
    /// The latest slot in [<paramref name="first"/>, <paramref name="now"/>], where <paramref name="first"/> is a slot
    /// at or before now: the one slot a schedule that missed several (downtime) fires on recovery.
    /// </summary>
    public DateTimeOffset LatestUpTo(DateTimeOffset first, DateTimeOffset now, TimeZoneInfo zone)
    {
        // Scan a short window before now first, so a frequent schedule that missed days is not walked slot by slot.
        foreach (var window in CatchUpWindows)
        {
            var fromFirst = now - window <= first;
            var cursor = fromFirst ? first : now - window;
            DateTimeOffset? latest = fromFirst ? first : null;
            for (var step = 0; step < MaxSteps * 10 && NextAfter(cursor, zone) is { } next && next <= now; step++)
            {
                latest = cursor = next;
            }

            if (latest is { } found)
            {
                return found;
            }
        }

        return first;
    }

    private static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        if (zone.IsInvalidTime(local))
        {
            var valid = new DateTime(local.Ticks - (local.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Unspecified);
            while (zone.IsInvalidTime(valid))
            {
                valid = valid.AddMinutes(1);
            }

            local = valid;
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }
}
