using System.Diagnostics;
using System.Text.Json;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The client kit as a user runs it: clients/python (stubs generated from protos/ with Debian's
/// protoc and grpc_python_plugin) and clients/node (@grpc/grpc-js from npm, its lockfile), each
/// example against served services: a fit, a rejected request's BadRequest, a whole study read
/// from its progress stream, the HTTP/JSON route. Their numbers must be the C# client's.
/// </summary>
public class ClientKitTests(ServiceStack backends) : IClassFixture<ServiceStack>
{
    private static async Task<(int Exit, string Out, string Err)> Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a hang guard
        await p.WaitForExitAsync(guard.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    [ClientFact]
    public async Task ThePythonExampleGetsTheNumbersTheCSharpClientGets()
    {
        string root = Repository.Root;
        string stubs = Directory.CreateTempSubdirectory("resilience-py-").FullName;
        try
        {
            var (exit, _, err) = await Run("bash", Path.Combine(root, "clients/python/generate.sh"), stubs);
            Assert.True(exit == 0, err);

            await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
            await using var study = await Hosts.Study(backends.Endpoints);
            string Host(Uri u) => $"{u.Host}:{u.Port}";
            (exit, var output, err) = await Run(
                "/usr/bin/python3",
                Path.Combine(root, "clients/python/example.py"),
                stubs,
                Host(regression.Address),
                Host(study.Address),
                regression.HttpAddress!.ToString()
            );
            Assert.True(exit == 0, err);
            await AssertTheCSharpNumbers(output, regression, study);
        }
        finally
        {
            Directory.Delete(stubs, true);
        }
    }

    [ClientFact]
    public async Task TheFitStreamBenchFromPythonStreamsItsRowsToAServedRegression()
    {
        // tests/bench/fitstream_python.py, as the README runs it, on fewer rows: every row
        // arrives, in chunks of 8,192 (30,000 rows of y and 9 regressors: four chunks).
        string root = Repository.Root;
        string stubs = Directory.CreateTempSubdirectory("resilience-py-").FullName;
        try
        {
            var (exit, _, err) = await Run("bash", Path.Combine(root, "clients/python/generate.sh"), stubs);
            Assert.True(exit == 0, err);
            await using var regression = await Hosts.Start(RegressionGrpcService.Module);
            (exit, var output, err) = await Run(
                "/usr/bin/python3",
                Path.Combine(root, "tests/bench/fitstream_python.py"),
                $"{regression.Address.Host}:{regression.Address.Port}",
                "--stubs",
                stubs,
                "--n",
                "30000",
                "--runs",
                "2",
                "--warmup",
                "0"
            );
            Assert.True(exit == 0, err);
            using var line = System.Text.Json.JsonDocument.Parse(output.Trim());
            Assert.Equal(30_000, line.RootElement.GetProperty("n_obs").GetInt32());
            Assert.True(line.RootElement.GetProperty("bytes").GetInt64() > 30_000L * 10 * sizeof(double));
            Assert.True(line.RootElement.GetProperty("median_ms").GetDouble() > 0);
        }
        finally
        {
            Directory.Delete(stubs, true);
        }
    }

    /// <summary>The example's JSON lines against what the C# client gets from the same servers.</summary>
    private static async Task AssertTheCSharpNumbers(string output, RunningService regression, RunningService study)
    {
        var steps = output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("step").GetString()!);

        using var channel = GrpcChannels.Create(regression.Address);
        var request = new FitRequest
        {
            Dependent = "y",
            Regressors = { "a" },
            CovarianceType = CovarianceType.Hc1,
            Columns =
            {
                new Column { Name = "y", Values = { 1, 3, 2, 5, 4, 6, 8, 7 } },
                new Column { Name = "a", Values = { 1, 2, 3, 4, 5, 6, 7, 9 } },
            },
        };
        var fit = await new RegressionService.RegressionServiceClient(channel).FitAsync(request);
        Assert.Equal(fit.Coefficients[0].Estimate, steps["fit"].GetProperty("estimate").GetDouble());
        Assert.Equal(fit.Coefficients[0].StdError, steps["fit"].GetProperty("std_error").GetDouble());
        if (steps.TryGetValue("http", out var http)) // the gRPC clients also call the HTTP route
            Assert.Equal(fit.Coefficients[0].Estimate, http.GetProperty("estimate").GetDouble());

        var code = steps["bad"].GetProperty("code");
        if (code.ValueKind == JsonValueKind.Number)
        {
            // Over HTTP/JSON: 400 and the google.rpc.Status's numeric code (3, INVALID_ARGUMENT).
            Assert.Equal(3, code.GetInt32());
            Assert.Equal(400, steps["bad"].GetProperty("http").GetInt32());
        }
        else
            Assert.Equal("INVALID_ARGUMENT", code.GetString());
        Assert.Contains(
            "covariance_type",
            steps["bad"].GetProperty("fields").EnumerateArray().Select(f => f.GetString())
        );

        var (report, progress) = await Hosts.RunAsync(
            study,
            new RunStudyRequest
            {
                Dataset = "sample",
                Spec = new StudySpec
                {
                    Bootstrap = new BootstrapOptions { Replications = 0 },
                    Multiverse = new MultiverseSpec { Disabled = true },
                },
            }
        );
        var main = report.Tables.First(t => t.Models.Count > 0);
        Assert.Equal(progress.Count, steps["study"].GetProperty("progress").GetInt32());
        Assert.Equal(report.Tables.Count, steps["study"].GetProperty("tables").GetInt32());
        Assert.Equal(main.Id, steps["study"].GetProperty("first_table").GetString());
        Assert.Equal(
            main.Models[0].Fit.Coefficients[0].Estimate,
            steps["study"].GetProperty("first_estimate").GetDouble()
        );
    }

    [RClientFact]
    public async Task TheRExampleOverHttpJsonGetsTheNumbersTheCSharpClientGets()
    {
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        await using var study = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(backends.Endpoints)],
            new HostOptions(Quiet: true, HttpPort: 0)
        );
        var (exit, output, err) = await Run(
            "/usr/bin/Rscript",
            Path.Combine(Repository.Root, "clients/r/example.R"),
            regression.HttpAddress!.ToString(),
            study.HttpAddress!.ToString()
        );
        Assert.True(exit == 0, err);
        await AssertTheCSharpNumbers(output, regression, study);
    }

    [ClientFact]
    public async Task TheNodeExampleGetsTheNumbersTheCSharpClientGets()
    {
        string root = Repository.Root;
        string dir = Path.Combine(root, "clients/node");
        // The lockfile's exact packages, from npm.
        var (exit, _, err) = await Run("npm", "ci", "--prefix", dir, "--no-audit", "--no-fund");
        Assert.True(exit == 0, err);
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        await using var study = await Hosts.Study(backends.Endpoints);
        (exit, var output, err) = await Run(
            "node",
            Path.Combine(dir, "example.js"),
            $"{regression.Address.Host}:{regression.Address.Port}",
            $"{study.Address.Host}:{study.Address.Port}",
            regression.HttpAddress!.ToString()
        );
        Assert.True(exit == 0, err);
        await AssertTheCSharpNumbers(output, regression, study);
    }
}

/// <summary>
/// A fact that needs R with Debian's r-cran-httr2 and r-cran-jsonlite: skipped without them,
/// unless REQUIRE_R=1 (.ci/run installs them and sets it).
/// </summary>
public sealed class RClientFactAttribute : FactAttribute
{
    public RClientFactAttribute() =>
        Skip = ToolRequirement.SkipReason(
            File.Exists("/usr/bin/Rscript")
                && Directory.Exists("/usr/lib/R/site-library/httr2")
                && Directory.Exists("/usr/lib/R/site-library/jsonlite"),
            "REQUIRE_R",
            "R with Debian's r-cran-httr2 and r-cran-jsonlite is not installed"
        );
}

/// <summary>
/// A fact that needs the clients' tools (Debian's python3-grpcio, protoc and grpc_python_plugin; node and npm):
/// skipped when they are missing, unless REQUIRE_CLIENTS=1 (.ci/run installs them and sets it).
/// </summary>
public sealed class ClientFactAttribute : FactAttribute
{
    public ClientFactAttribute() =>
        Skip = ToolRequirement.SkipReason(
            File.Exists("/usr/bin/python3")
                && File.Exists("/usr/bin/protoc")
                && File.Exists("/usr/bin/grpc_python_plugin")
                && Directory.Exists("/usr/lib/python3/dist-packages/grpc")
                && File.Exists("/usr/include/google/protobuf/descriptor.proto")
                && ToolRequirement.OnPath("npm"),
            "REQUIRE_CLIENTS",
            "Debian's python3-grpcio, python3-protobuf, protobuf-compiler, protobuf-compiler-grpc, libprotobuf-dev and npm are not installed"
        );
}
