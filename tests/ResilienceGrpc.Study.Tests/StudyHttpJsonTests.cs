using System.Net;
using System.Text;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Study.Tests;

/// <summary>
/// POST /v1/study:run streams the study over HTTP/1.1 as JSON, one RunStudyResponse per line:
/// the progress events, then the report, the same report gRPC gives.
/// </summary>
public class StudyHttpJsonTests(StudyStack stack) : IClassFixture<StudyStack>
{
    [Fact]
    public async Task TheStudyStreamsItsProgressAndReportAsJsonLines()
    {
        await using var study = await ServiceHosting.StartAsync(
            [StudyGrpcService.Module(stack.Endpoints)],
            new HostOptions(Quiet: true, HttpPort: 0)
        );
        var request = new RunStudyRequest
        {
            Dataset = "sample",
            Spec = new StudySpec
            {
                Bootstrap = new Contracts.Regression.V1.BootstrapOptions { Replications = 0 },
                Multiverse = new MultiverseSpec { Disabled = true },
            },
        };
        using var http = new HttpClient();
        using var response = await http.PostAsync(
            new Uri(study.HttpAddress!, "/v1/study:run"),
            new StringContent(JsonFormatter.Default.Format(request), Encoding.UTF8, "application/json")
        );
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messages = (await response.Content.ReadAsStringAsync())
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonParser.Default.Parse<RunStudyResponse>(line))
            .ToList();
        Assert.True(messages.Count > 2);
        Assert.All(messages.SkipLast(1), m => Assert.Equal(RunStudyResponse.EventOneofCase.Progress, m.EventCase));
        var overHttp = messages[^1].Report;

        var (overGrpc, _) = await StudyStream.RunAsync(stack.StudyChannel, request);
        Assert.Equal(
            overGrpc.Tables.SelectMany(t => t.Models).Select(m => m.Fit),
            overHttp.Tables.SelectMany(t => t.Models).Select(m => m.Fit)
        );
    }
}
