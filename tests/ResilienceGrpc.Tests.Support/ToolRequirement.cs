namespace ResilienceGrpc.Tests.Support;

/// <summary>
/// The one rule of the tests that need an outside tool (pdflatex, R, statsmodels, the clients'
/// tools, redis-server): without the tool they are skipped with a reason that names the Debian
/// packages, unless the CI sets the tool's REQUIRE_* variable to 1, and then they run and fail.
/// </summary>
public static class ToolRequirement
{
    /// <summary>The skip reason, or null when the tool is there or required.</summary>
    public static string? SkipReason(bool present, string requireVariable, string missing) =>
        present || Environment.GetEnvironmentVariable(requireVariable) == "1"
            ? null
            : $"{missing} (.ci/run installs it and sets {requireVariable}=1).";

    /// <summary>Whether <paramref name="tool"/> is an executable file on the PATH.</summary>
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)));
}
