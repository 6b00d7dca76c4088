using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using ResilienceGrpc.Client.Data;
using ResilienceGrpc.Client.Embedded;
using ResilienceGrpc.Client.Reporting;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Cli;

/// <summary>
/// The <c>resilience</c> command line. Every verb prints its result in the chosen
/// format on stdout; every error is one sentence on stderr with a non-zero exit code
/// (2 usage, 1 bad input, 3 a service unreachable, 4 another service failure, 130
/// cancelled), and a stack trace only with <c>--verbose</c>.
/// </summary>
public static class CommandLineApp
{
    public const int ExitOk = 0,
        ExitInput = 1,
        ExitUsage = 2,
        ExitUnavailable = 3,
        ExitService = 4,
        ExitCancelled = 130;

    internal static readonly Option<string> Format = new("--format")
    {
        Description = "Output format: table, json (the response in canonical proto3 JSON), markdown, latex or csv.",
        DefaultValueFactory = _ => "table",
        Recursive = true,
    };

    static CommandLineApp() => Format.AcceptOnlyFromAmong("table", "json", "markdown", "latex", "csv");

    internal static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces with errors.",
        Recursive = true,
    };

    internal static readonly Option<bool> Progress = new("--progress")
    {
        Description = "Print progress lines even when stderr is not a terminal.",
        Recursive = true,
    };

    internal static readonly Option<string?> TokenFile = new("--token-file")
    {
        Description =
            "A file whose first line is the bearer token to send to services that need one (never the token itself on the command line).",
        Recursive = true,
    };

    internal static readonly Option<string?> TlsCa = new("--tls-ca")
    {
        Description =
            "A PEM certificate to trust for https:// services (a private CA or a self-signed server), beside the system's roots.",
        Recursive = true,
    };

    /// <summary>What the client verbs add to their calls: --token-file's token and --tls-ca's certificate.</summary>
    internal static ChannelSecurity SecurityOf(ParseResult parse) =>
        new(
            ServerSecurity.ReadTokens(parse.GetValue(TokenFile)).FirstOrDefault(),
            ServerSecurity.ReadTrust(parse.GetValue(TlsCa))
        );

    /// <summary>The same, as settings for an embedded study server (which forwards the token and trusts the certificate).</summary>
    internal static Dictionary<string, string?> SecuritySettings(ParseResult parse) =>
        new()
        {
            [ServerSecurity.TokenKey] = parse.GetValue(TokenFile),
            [ServerSecurity.TrustKey] = parse.GetValue(TlsCa),
        };

    internal static readonly Option<double> Timeout = new("--timeout")
    {
        Description = "Deadline of each call to a service, in seconds.",
        DefaultValueFactory = _ => 600,
        Recursive = true,
    };

    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken cancellationToken = default
    )
    {
        var root = new RootCommand(
            "resilience: urban resilience and export resilience, as gRPC services (see README.md)."
        );
        root.Options.Add(Format);
        root.Options.Add(Verbose);
        root.Options.Add(Progress);
        root.Options.Add(Timeout);
        root.Options.Add(TokenFile);
        root.Options.Add(TlsCa);
        var context = new VerbContext(stdout, stderr);
        foreach (var verb in Verbs.All(context))
            root.Subcommands.Add(verb);

        if (args.Length == 0)
        {
            stderr.WriteLine(
                "error: no verb given; use one of study, index, project, regress, serve, sample, health, bench (see 'resilience --help')."
            );
            return ExitUsage;
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // The most specific error first: an unknown word says more than "a verb is required".
            var error =
                parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal))
                ?? parsed.Errors[0];
            var lines = error
                .Message.Replace("\r", "")
                .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var first = lines[0].TrimEnd('.', ':') + (lines.Length > 1 ? ": " + string.Join(", ", lines.Skip(1)) : "");
            string verbName = parsed.CommandResult.Command is { } c && c != root ? $" {c.Name}" : "";
            stderr.WriteLine($"error: {first} (see 'resilience{verbName} --help').");
            return ExitUsage;
        }
        return await parsed.InvokeAsync(
            new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            },
            cancellationToken
        );
    }

    /// <summary>Runs a verb's body with the shared error handling.</summary>
    internal static async Task<int> Guard(ParseResult parse, TextWriter stderr, Func<Task<int>> body)
    {
        bool verbose = parse.GetValue(Verbose);
        try
        {
            return await body();
        }
        catch (DataFileException e)
        {
            return Fail(stderr, e, verbose, e.Message, ExitInput);
        }
        catch (ResilienceGrpc.Domain.DomainInputException e)
        {
            return Fail(stderr, e, verbose, e.Message, ExitInput);
        }
        catch (CommandLineException e)
        {
            return Fail(stderr, e, verbose, e.Message, ExitUsage);
        }
        catch (ResilienceGrpc.ServiceDefaults.InvalidConfigurationException e)
        {
            return Fail(stderr, e, verbose, e.Message, ExitUsage);
        }
        catch (FormatException e)
        {
            return Fail(stderr, e, verbose, e.Message, ExitUsage);
        }
        catch (RpcException e)
        {
            return Fail(stderr, e, verbose, RpcErrors.Describe(e), RpcErrors.ExitCode(e));
        }
        catch (OperationCanceledException e)
        {
            return Fail(stderr, e, verbose, "Cancelled.", ExitCancelled);
        }
        catch (IOException e)
        {
            return Fail(stderr, e, verbose, $"Could not read or write a file: {e.Message}", ExitInput);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(stderr, e, verbose, $"Permission denied: {e.Message}", ExitInput);
        }
        catch (Exception e)
        {
            return Fail(
                stderr,
                e,
                verbose,
                $"Unexpected failure ({e.GetType().Name}): {e.Message} Run again with --verbose for details.",
                ExitService
            );
        }
    }

    private static int Fail(TextWriter stderr, Exception e, bool verbose, string sentence, int code)
    {
        stderr.WriteLine("error: " + sentence.Trim());
        if (verbose)
            stderr.WriteLine(e.ToString());
        return code;
    }

    internal static OutputFormat FormatOf(ParseResult parse) =>
        parse.GetValue(Format) switch
        {
            "json" => OutputFormat.Json,
            "markdown" => OutputFormat.Markdown,
            "latex" => OutputFormat.Latex,
            "csv" => OutputFormat.Csv,
            _ => OutputFormat.Table,
        };

    private static readonly JsonFormatter Json = new(
        JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation()
    );

    /// <summary>Writes a response: the message as proto3 JSON, or its tables.</summary>
    internal static void Write(
        TextWriter stdout,
        ParseResult parse,
        IMessage response,
        IReadOnlyList<TextTable> tables,
        string? only = null
    )
    {
        var format = FormatOf(parse);
        if (format == OutputFormat.Json)
        {
            stdout.WriteLine(Json.Format(response));
            return;
        }
        var chosen = only is null ? tables : tables.Where(t => t.Id == only).ToList();
        if (chosen.Count == 0)
            throw new CommandLineException(
                $"There is no table '{only}'; choose one of {string.Join(", ", tables.Select(t => t.Id))}."
            );
        stdout.Write(TableRenderer.Render(chosen, format));
    }

    internal static DateTime Deadline(ParseResult parse)
    {
        double seconds = parse.GetValue(Timeout);
        if (!(seconds > 0))
            throw new CommandLineException("--timeout must be a positive number of seconds.");
        return DateTime.UtcNow.AddSeconds(seconds);
    }

    internal static string Text(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Where a verb writes.</summary>
public sealed record VerbContext(TextWriter Out, TextWriter Err);

/// <summary>Turns gRPC failures into one sentence and an exit code.</summary>
public static class RpcErrors
{
    public static string Describe(RpcException e) =>
        e.StatusCode switch
        {
            _ when e.Status.DebugException is { } d
                    && Inner<System.Security.Authentication.AuthenticationException>(d) =>
                "The service's TLS certificate is not trusted here; pass its certificate or CA with --tls-ca FILE (PEM).",
            StatusCode.Unavailable => Unavailable(e),
            StatusCode.DeadlineExceeded =>
                "The service did not answer before the deadline; allow more time with --timeout or send less work.",
            StatusCode.Unimplemented => "The address answers, but not with the expected service; check the URL.",
            _ => EndSentence(e.Status.Detail),
        };

    private static string Unavailable(RpcException e)
    {
        if (!Unreachable.Is(e))
            return EndSentence(e.Status.Detail); // named where it happened
        string detail =
            e.Status.DebugException?.InnerException?.Message ?? e.Status.DebugException?.Message ?? e.Status.Detail;
        return EndSentence(
            $"A service is unavailable ({detail.TrimEnd('.')}); check that it is running and that the address is right"
        );
    }

    private static bool Inner<T>(Exception e)
        where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T)
                return true;
        return false;
    }

    private static string EndSentence(string s) => s.EndsWith('.') ? s : s + ".";

    public static int ExitCode(RpcException e) =>
        e.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange =>
                CommandLineApp.ExitInput,
            StatusCode.Unavailable => CommandLineApp.ExitUnavailable,
            StatusCode.Cancelled => CommandLineApp.ExitCancelled,
            _ => CommandLineApp.ExitService,
        };
}
