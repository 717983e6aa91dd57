using Serverless.Functions.Platform.Scheduling;

namespace Serverless.Functions.Tests.Platform.Scheduling;

/// <summary>Cron slots on a zone's wall clock, placed on the time line across Berlin's 2027 clock changes.</summary>
public sealed class CronScheduleTests
{
    private static readonly TimeZoneInfo Berlin = CronSchedule.FindZone("Europe/Berlin")!;

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0 9 * * 1-5", true)]
    [InlineData("*/10 * * * * *", true)]
    [InlineData("0 9 * *", false)]
    [InlineData("0 0 0 9 * * *", false)]
    [InlineData("61 * * * *", false)]
    [InlineData("", false)]
    public void Parse_AcceptsFiveOrSixFields(string expression, bool valid) => Assert.Equal(valid, CronSchedule.Parse(expression) is not null);

    [Theory]
    // 28 March 2027: 02:00 CET becomes 03:00 CEST. 02:30 does not exist; it fires at 03:00 CEST (01:00Z), once.
    [InlineData("30 2 * * *", "2027-03-27T23:00:00Z", "2027-03-28T01:00:00Z")]
    [InlineData("30 2 * * *", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z")]
    [InlineData("*/15 * * * *", "2027-03-28T00:45:00Z", "2027-03-28T01:00:00Z")]
    [InlineData("*/15 * * * *", "2027-03-28T01:00:00Z", "2027-03-28T01:15:00Z")]
    // 31 October 2027: 03:00 CEST becomes 02:00 CET. 02:30 happens twice; it fires on the first pass only.
    [InlineData("30 2 * * *", "2027-10-30T23:00:00Z", "2027-10-31T00:30:00Z")]
    [InlineData("30 2 * * *", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z")]
    [InlineData("0 * * * *", "2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z")]
    // Winter and summer weekdays at 09:00 local.
    [InlineData("0 9 * * 1-5", "2027-01-08T09:00:00Z", "2027-01-11T08:00:00Z")]
    [InlineData("0 9 * * 1-5", "2027-07-01T06:00:00Z", "2027-07-01T07:00:00Z")]
    public void NextAfter_InBerlin_IsDstCorrect(string cron, string after, string expected) =>
        Assert.Equal(Utc(expected), CronSchedule.Parse(cron)!.NextAfter(Utc(after), Berlin));

    [Fact]
    public void LatestUpTo_PicksTheLastMissedSlot()
    {
        var everyMinute = CronSchedule.Parse("* * * * *")!;

        Assert.Equal(Utc("2027-01-03T10:00:00Z"), everyMinute.LatestUpTo(Utc("2027-01-01T00:00:00Z"), Utc("2027-01-03T10:00:30Z"), TimeZoneInfo.Utc));
        Assert.Equal(Utc("2027-01-01T00:00:00Z"), everyMinute.LatestUpTo(Utc("2027-01-01T00:00:00Z"), Utc("2027-01-01T00:00:59Z"), TimeZoneInfo.Utc));
    }

    [Fact]
    public void ASlotThatNeverComes_IsNull() => Assert.Null(CronSchedule.Parse("0 0 30 2 *")!.NextAfter(Utc("2027-01-01T00:00:00Z"), TimeZoneInfo.Utc));
}
