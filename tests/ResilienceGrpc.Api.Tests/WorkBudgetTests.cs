using Grpc.Core;
using Microsoft.Extensions.Configuration;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The work budget: a request over a limit is refused before work starts, with
/// RESOURCE_EXHAUSTED naming the field and the limit's configuration key, and the limits
/// are bound from configuration and checked at start.
/// </summary>
public class WorkBudgetTests(ServiceStack services) : IClassFixture<ServiceStack>
{
    private RegressionService.RegressionServiceClient Client => new(services.RegressionChannel);

    /// <summary><paramref name="columns"/> random columns c0.. of <paramref name="rows"/> rows, and y.</summary>
    private static FitRequest Data(int rows, int columns, int seed = 3)
    {
        var rng = new Random(seed);
        var request = new FitRequest { Dependent = "y", CovarianceType = CovarianceType.Hc1 };
        request.Columns.Add(
            new Column { Name = "y", Values = { Enumerable.Range(0, rows).Select(_ => rng.NextDouble()) } }
        );
        for (int c = 0; c < columns; c++)
            request.Columns.Add(
                new Column { Name = $"c{c}", Values = { Enumerable.Range(0, rows).Select(_ => rng.NextDouble()) } }
            );
        return request;
    }

    /// <summary>
    /// Expects RESOURCE_EXHAUSTED on <paramref name="field"/> from <c>Fit</c> (when the request fits
    /// in one message) and from <c>FitStream</c>, which checks the budget as rows arrive and so may
    /// stop at an earlier chunk, naming the rows so far; returns the last message.
    /// </summary>
    private async Task<string> ExpectRefused(FitRequest request, string field, bool unary = true)
    {
        string message = "";
        if (unary)
            message = await Rejection.Expect(
                StatusCode.ResourceExhausted,
                field,
                () => Client.FitAsync(request).ResponseAsync
            );
        var streamed = await Rejection.Expect(
            StatusCode.ResourceExhausted,
            field,
            () => Cli.Verbs.Stream(Client, request, null, DateTime.UtcNow.AddMinutes(1), CancellationToken.None)
        );
        return unary ? message : streamed;
    }

    [Fact]
    public async Task TenThousandProductRegressorsAreRefusedByTheParameterLimit()
    {
        // The reported case: n = 12,000 and 10,000 product regressors in a small message.
        var request = Data(12_000, 20);
        request.Regressors.AddRange(Enumerable.Range(0, 10_000).Select(i => $"c{i % 20}*c{i / 20 % 20}"));
        var message = await ExpectRefused(request, "regressors");
        Assert.Contains("10,001 parameters", message);
        Assert.Contains($"{new RegressionLimits().MaxParameters:N0} (Limits:Regression:MaxParameters)", message);
    }

    [Fact]
    public async Task AWideFitOverTheFittingBudgetIsRefused()
    {
        // 100,000 rows × 71² is 5.0e8 units of fitting: just over the default budget.
        var request = Data(100_000, 3);
        request.Regressors.AddRange(Enumerable.Range(0, 70).Select(i => i % 3 == 0 ? $"c{i % 3}" : $"c0*c{i % 3}"));
        var message = await ExpectRefused(request, "columns");
        Assert.Contains("Limits:Regression:MaxFitWork", message);
        Assert.Contains($"{RegressionLimits.FitWork(100_000, 71):N0} units of fitting", message);
    }

    [Fact]
    public async Task ABootstrapOverTheBudgetIsRefused()
    {
        // The reported case: 10,000 replications on 150,000 rows.
        var request = Data(150_000, 1);
        request.Regressors.Add("c0");
        request.Bootstrap = new BootstrapOptions { Replications = 10_000, Seed = 1 };
        var message = await ExpectRefused(request, "bootstrap.replications");
        Assert.Contains("Limits:Regression:MaxBootstrapWork", message);
        Assert.Contains($"{RegressionLimits.BootstrapWork(150_000, 2, 10_000):N0} units of bootstrap", message);
    }

    [Fact]
    public async Task InfluenceOnMoreRowsThanTheReplyMayCarryIsRefused()
    {
        // 600,000 rows × 2 coefficients: more than a message carries, so only FitStream can ask.
        var request = Data(600_000, 1);
        request.Regressors.Add("c0");
        request.Influence = true;
        var message = await ExpectRefused(request, "influence", unary: false);
        Assert.Contains("Limits:Regression:MaxInfluenceValues", message);
    }

    [Fact]
    public async Task LimitsComeFromConfiguration()
    {
        await using var strict = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?>
            {
                ["Limits:Regression:MaxParameters"] = "2",
                ["Limits:Regression:MaxStreamedValues"] = "1000",
            }
        );
        using var channel = GrpcChannels.Create(strict.Address);
        var client = new RegressionService.RegressionServiceClient(channel);

        var two = Data(50, 2);
        two.Regressors.Add("c0");
        Assert.Equal(2, (await client.FitAsync(two)).Coefficients.Count);

        var three = Data(50, 2);
        three.Regressors.AddRange(["c0", "c1"]);
        var message = await Rejection.ExpectFit(client, StatusCode.ResourceExhausted, "regressors", three);
        Assert.Contains("the limit is 2 (Limits:Regression:MaxParameters)", message);

        // 3 columns × 400 rows is past 1,000 streamed values: refused at the chunk that passes it.
        var streamed = Data(400, 2);
        streamed.Regressors.Add("c0");
        using var call = client.FitStream();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(streamed);
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("Limits:Regression:MaxStreamedValues", e.Status.Detail);
    }

    [Fact]
    public async Task MoreIndicatorsThanTheLimitAreRefusedBeforeWeighing()
    {
        var rng = new Random(4);
        var request = new ComputeIndexRequest { UnitIds = { "a", "b", "c" }, Method = WeightingMethod.Critic };
        int limit = new IndexingLimits().MaxIndicators;
        for (int j = 0; j <= limit; j++)
            request.Indicators.Add(
                new Indicator
                {
                    Id = $"i{j}",
                    Dimension = "d",
                    Direction = Direction.Positive,
                    Values = { rng.NextDouble(), rng.NextDouble(), rng.NextDouble() },
                }
            );
        var client = new IndexingService.IndexingServiceClient(services.IndexingChannel);
        var message = await Rejection.Expect(
            StatusCode.ResourceExhausted,
            "indicators",
            () => client.ComputeIndexAsync(request).ResponseAsync
        );
        Assert.Contains($"{limit + 1:N0} indicators", message);
        Assert.Contains("Limits:Indexing:MaxIndicators", message);
    }

    [Theory]
    [InlineData("MaxFitWorks", "10", "Limits:Regression:MaxFitWorks is not a limit")]
    [InlineData("MaxFitWork", "lots", "Limits:Regression:MaxFitWork = 'lots' is not a limit")]
    [InlineData("MaxFitWork", "0", "Limits:Regression:MaxFitWork = '0' is not a limit")]
    [InlineData("MaxParameters", "3000000000", "give a whole number from 1 to 2,147,483,647")]
    public void ABadLimitStopsTheServerAtStartNamingTheKey(string key, string value, string expected)
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Limits:Regression:{key}"] = value })
            .Build();
        var e = Assert.Throws<InvalidConfigurationException>(() =>
            ServiceLimits.Bind<RegressionLimits>(config, RegressionLimits.Service)
        );
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AGoodLimitIsBound()
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(
                new Dictionary<string, string?>
                {
                    ["Limits:Regression:MaxFitWork"] = "1_000",
                    ["Limits:Regression:maxparameters"] = "7",
                }
            )
            .Build();
        var limits = ServiceLimits.Bind<RegressionLimits>(config, RegressionLimits.Service);
        Assert.Equal(1_000, limits.MaxFitWork);
        Assert.Equal(7, limits.MaxParameters);
        Assert.Equal(new RegressionLimits().MaxBootstrapWork, limits.MaxBootstrapWork);
    }
}
