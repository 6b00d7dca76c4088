using System.Globalization;
using Xunit;

namespace ResilienceGrpc.Tests.Support;

/// <summary>The tolerance check every reference test uses (kept apart so the benchmarks can share the loader without xunit).</summary>
public static partial class Reference
{
    /// <summary>Asserts |actual − expected| ≤ rel·|expected| (or ≤ abs when given and larger).</summary>
    public static void Close(double expected, double actual, double rel, string what, double abs = 0)
    {
        double err = Math.Abs(actual - expected);
        double allowed = Math.Max(rel * Math.Abs(expected), abs);
        Assert.True(
            err <= allowed,
            string.Create(
                CultureInfo.InvariantCulture,
                $"{what}: expected {expected:R}, got {actual:R} (error {err:E2}, relative {err / Math.Abs(expected):E2}, allowed {allowed:E2})"
            )
        );
    }
}
