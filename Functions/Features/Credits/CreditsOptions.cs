using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Credits;

/// <summary>
/// Credits are whole numbers (AutoGPT's unit): <see cref="CreditsPerUsd"/> of them make one US dollar of model cost, and
/// a call's cost in credits is rounded up, so no call is free because it is cheap.
/// </summary>
internal sealed class CreditsOptions
{
    public const string Section = "Credits";

    /// <summary>Whether model calls are paid from their user's balance (and refused with 402 when it cannot pay).</summary>
    public bool Enabled { get; set; }

    [Range(1, 1_000_000)]
    public int CreditsPerUsd { get; set; } = 100;

    /// <summary>Credits a user's account opens with (a GRANT), on the first read or charge of it.</summary>
    [Range(0, 1_000_000_000)]
    public long InitialGrant { get; set; }

    /// <summary>Completion tokens reserved for a chat call that sets no max_tokens / max_completion_tokens.</summary>
    [Range(1, 1_000_000)]
    public int ReserveCompletionTokens { get; set; } = 1024;

    /// <summary>How long a call's reservation holds funds at most: a process that dies mid-call frees them after this.</summary>
    [Range(1, 1440)]
    public int ReservationMinutes { get; set; } = 30;

    /// <summary>Credits per model cost in USD, rounded up (never negative).</summary>
    public long ToCredits(decimal usd) => usd <= 0 ? 0 : (long)Math.Ceiling(usd * CreditsPerUsd);
}
