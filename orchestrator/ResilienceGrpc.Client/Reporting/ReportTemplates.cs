using System.Text.RegularExpressions;

namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// The report's templates, kept as files under <c>Reporting/Templates/</c> and embedded in
/// the assembly: the HTML page's CSS and script, and the LaTeX table layout. A template's
/// placeholders are <c>@name@</c>; <see cref="Fill"/> replaces them in one pass, so text put
/// in is never read again as a placeholder.
/// </summary>
public static partial class ReportTemplates
{
    /// <summary>A template file, as embedded.</summary>
    public static string Get(string name) => Resource("ResilienceGrpc.Client.Reporting.Templates." + name);

    /// <summary>The template with every <c>@name@</c> replaced by its value; a placeholder without a value is an error.</summary>
    public static string Fill(string name, IReadOnlyDictionary<string, string> values) =>
        Placeholder()
            .Replace(
                Get(name),
                m =>
                    values.TryGetValue(m.Groups[1].Value, out var v)
                        ? v
                        : throw new InvalidOperationException(
                            $"The template {name} has no value for @{m.Groups[1].Value}@."
                        )
            );

    /// <summary>An embedded resource of this assembly, as text.</summary>
    public static string Resource(string name)
    {
        using var s =
            typeof(ReportTemplates).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The report template {name} is missing from the build.");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    [GeneratedRegex("@([a-z]+)@")]
    private static partial Regex Placeholder();
}
