using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using ResilienceGrpc.Contracts.Indexing.V1;
using ResilienceGrpc.Contracts.Projection.V1;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// HTTP/JSON beside gRPC (JSON transcoding of the protos' google.api.http routes) on a second,
/// HTTP/1.1 port: the same answers as gRPC, the same errors as a JSON google.rpc.Status with
/// the field violations, and the same bearer token. Requests are sent the way curl -d sends
/// them (form content type), which the routes read as JSON.
/// </summary>
public sealed class HttpJsonTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private static StringContent Body(IMessage message) =>
        new(JsonFormatter.Default.Format(message), Encoding.UTF8, "application/x-www-form-urlencoded");

    private Task<(HttpStatusCode Code, string Json)> Post(
        RunningService host,
        string route,
        IMessage body,
        string? token = null
    ) =>
        // Wait for the server's go-ahead before the body, so a refusal by size comes back as an answer.
        Send(host, route, Body(body), token, expectContinue: true);

    /// <summary>POSTs <paramref name="content"/> to a route, with the bearer token when given.</summary>
    private async Task<(HttpStatusCode Code, string Json)> Send(
        RunningService host,
        string route,
        HttpContent content,
        string? token,
        bool expectContinue = false
    )
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.HttpAddress!, route)) { Content = content };
        if (expectContinue)
            request.Headers.ExpectContinue = true;
        if (token is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EveryServiceAnswersOverHttpJsonWhatItAnswersOverGrpc()
    {
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        await using var indexing = await Hosts.Start(IndexingGrpcService.Module, httpPort: 0);
        await using var projection = await Hosts.Start(ProjectionGrpcService.Module, httpPort: 0);

        var fit = BadFitInputTests.SmallFit();
        var (code, json) = await Post(regression, "/v1/regression:fit", fit);
        Assert.Equal(HttpStatusCode.OK, code);
        using (var channel = GrpcChannels.Create(regression.Address))
        {
            var overGrpc = await new RegressionService.RegressionServiceClient(channel).FitAsync(fit);
            Assert.Equal(overGrpc, JsonParser.Default.Parse<FitResponse>(json));
        }

        var index = BadInputTests.SmallIndex();
        (code, json) = await Post(indexing, "/v1/indexing:computeIndex", index);
        Assert.Equal(HttpStatusCode.OK, code);
        using (var channel = GrpcChannels.Create(indexing.Address))
            Assert.Equal(
                await new IndexingService.IndexingServiceClient(channel).ComputeIndexAsync(index),
                JsonParser.Default.Parse<ComputeIndexResponse>(json)
            );

        var projectRequest = BadInputTests.SmallProjection();
        (code, json) = await Post(projection, "/v1/projection:projectExports", projectRequest);
        Assert.Equal(HttpStatusCode.OK, code);
        using (var channel = GrpcChannels.Create(projection.Address))
            Assert.Equal(
                await new ProjectionService.ProjectionServiceClient(channel).ProjectExportsAsync(projectRequest),
                JsonParser.Default.Parse<ProjectExportsResponse>(json)
            );
    }

    /// <summary>The one detail of a JSON google.rpc.Status of the given google.rpc type.</summary>
    private static JsonElement Detail(JsonDocument status, string type) =>
        status
            .RootElement.GetProperty("details")
            .EnumerateArray()
            .Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc." + type);

    [Fact]
    public async Task AnErrorIsAJsonStatusWithTheFieldViolation()
    {
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        var fit = BadFitInputTests.SmallFit();
        fit.CovarianceType = CovarianceType.Unspecified;
        var (code, json) = await Post(regression, "/v1/regression:fit", fit);
        Assert.Equal(HttpStatusCode.BadRequest, code);
        using var status = JsonDocument.Parse(json);
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32()); // INVALID_ARGUMENT
        var bad = Detail(status, "BadRequest");
        Assert.Equal("covariance_type", bad.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        Assert.DoesNotContain("   at ", json);
    }

    private Task<(HttpStatusCode Code, string Json)> PostJson(
        RunningService host,
        string route,
        string json,
        string? token = null
    ) => Send(host, route, new StringContent(json, Encoding.UTF8, "application/json"), token);

    /// <summary>A small fit's JSON with <paramref name="edit"/> applied to its object tree.</summary>
    private static string FitJson(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var tree = System.Text.Json.Nodes.JsonNode.Parse(JsonFormatter.Default.Format(BadFitInputTests.SmallFit()))!.AsObject();
        edit(tree);
        return tree.ToJsonString();
    }

    [Theory]
    [InlineData("top", "tolerence", "Did you mean 'tolerance'?")]
    [InlineData("nested", "columns[1].nmae", "Did you mean 'name'?")]
    [InlineData("far", "zzzzzzzzzzzz", "")]
    public async Task ANameTheRequestDoesNotHaveIsRefusedNotIgnored(string where, string field, string hint)
    {
        // The transcoder alone drops it and fits with the default: an answer to another question.
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        var json = FitJson(tree =>
        {
            switch (where)
            {
                case "top":
                    tree["tolerence"] = 1e-10;
                    break;
                case "nested":
                    tree["columns"]![1]!.AsObject()["nmae"] = "x";
                    break;
                default:
                    tree["zzzzzzzzzzzz"] = new System.Text.Json.Nodes.JsonObject { ["a"] = 1 };
                    break;
            }
        });
        var (code, body) = await PostJson(regression, "/v1/regression:fit", json);
        Assert.Equal(HttpStatusCode.BadRequest, code);
        using var status = JsonDocument.Parse(body);
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32()); // INVALID_ARGUMENT
        Assert.Equal(field, Detail(status, "BadRequest").GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        Assert.Contains(hint, status.RootElement.GetProperty("message").GetString());
        if (hint.Length == 0)
            Assert.DoesNotContain("Did you mean", body);
    }

    [Fact]
    public async Task ProtoAndJsonNamesAndEveryKnownFieldStillFit()
    {
        // The same fit with the proto names (covariance_type, row_ids) and with the optional
        // fields set: the same answer as over gRPC.
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        var fit = BadFitInputTests.SmallFit();
        fit.Tolerance = 1e-9;
        fit.Influence = true;
        fit.Bootstrap = new BootstrapOptions { Replications = 99, Seed = 5 };
        var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
        var (code, json) = await PostJson(regression, "/v1/regression:fit", formatter.Format(fit));
        Assert.Equal(HttpStatusCode.OK, code);
        using var channel = GrpcChannels.Create(regression.Address);
        var overGrpc = await new RegressionService.RegressionServiceClient(channel).FitAsync(fit);
        Assert.Equal(overGrpc, JsonParser.Default.Parse<FitResponse>(json));
    }

    [Fact]
    public async Task AJsonBodyOverItsLimitIsRefusedNamingTheLimit()
    {
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        // 2.2 million values as JSON text: about 17 MiB, over the 16 MiB a JSON body may have.
        var fit = new FitRequest
        {
            Dependent = "y",
            Regressors = { "a" },
            CovarianceType = CovarianceType.Hc1,
        };
        var values = Enumerable.Range(0, 1_100_000).Select(i => i * 1.25);
        fit.Columns.Add(new Column { Name = "y", Values = { values } });
        fit.Columns.Add(new Column { Name = "a", Values = { values } });
        var text = JsonFormatter.Default.Format(fit);
        Assert.True(text.Length > ServiceDefaultsExtensions.MaxJsonBodyBytes);

        // With its length declared (curl, httr2, requests), the body is refused before it is read,
        // as RESOURCE_EXHAUSTED on the body with the limit, like every other limit.
        var (code, json) = await Post(regression, "/v1/regression:fit", fit);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, code);
        using (var status = JsonDocument.Parse(json))
        {
            Assert.Equal(8, status.RootElement.GetProperty("code").GetInt32()); // RESOURCE_EXHAUSTED
            var quota = Detail(status, "QuotaFailure");
            Assert.Equal("body", quota.GetProperty("violations")[0].GetProperty("subject").GetString());
            Assert.Contains(
                ServiceDefaultsExtensions.MaxJsonBodyBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                status.RootElement.GetProperty("message").GetString()
            );
        }
        Assert.DoesNotContain("   at ", json);

        // Sent without a length (chunked), it is read up to the limit and refused the same way.
        // (Just over the limit, so that the client has sent it all when the answer comes.)
        var chunked = new byte[ServiceDefaultsExtensions.MaxJsonBodyBytes + 100_000];
        chunked.AsSpan().Fill((byte)' ');
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(regression.HttpAddress!, "/v1/regression:fit"))
        {
            Content = new StreamContent(new UnknownLength(chunked)),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _http.SendAsync(request);
        Assert.Null(request.Content.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var chunkedStatus = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(8, chunkedStatus.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("more than 16,777,216 bytes", chunkedStatus.RootElement.GetProperty("message").GetString());

        // A chunked body within the limit is read as usual.
        using var small = new HttpRequestMessage(HttpMethod.Post, new Uri(regression.HttpAddress!, "/v1/regression:fit"))
        {
            Content = new StreamContent(new UnknownLength(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(BadFitInputTests.SmallFit())))),
        };
        small.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var fitted = await _http.SendAsync(small);
        Assert.Equal(HttpStatusCode.OK, fitted.StatusCode);
        Assert.Contains("coefficients", await fitted.Content.ReadAsStringAsync());
    }

    /// <summary>A body whose length is not known in advance, so the client sends it chunked.</summary>
    private sealed class UnknownLength(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task TheRoutesNeedTheBearerTokenToo()
    {
        var file = Path.GetTempFileName();
        try
        {
            const string Token = "http-json-token-0123456789abcdef";
            File.WriteAllText(file, Token);
            await using var regression = await Hosts.Start(
                RegressionGrpcService.Module,
                settings: new Dictionary<string, string?> { [ServerSecurity.TokenKey] = file },
                httpPort: 0
            );
            var (code, _) = await Post(regression, "/v1/regression:fit", BadFitInputTests.SmallFit());
            Assert.Equal(HttpStatusCode.Unauthorized, code);
            (code, _) = await Post(regression, "/v1/regression:fit", BadFitInputTests.SmallFit(), Token);
            Assert.Equal(HttpStatusCode.OK, code);
            // A name the request does not have: 401 first without the token (the answer names no
            // field), and 400 naming it with the token.
            var misspelt = FitJson(tree => tree["tolerence"] = 1e-9);
            (code, var body) = await PostJson(regression, "/v1/regression:fit", misspelt);
            Assert.Equal(HttpStatusCode.Unauthorized, code);
            Assert.DoesNotContain("tolerance", body);
            (code, body) = await PostJson(regression, "/v1/regression:fit", misspelt, Token);
            Assert.Equal(HttpStatusCode.BadRequest, code);
            Assert.Contains("tolerence", body);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task EachServiceDescribesItsRoutesInAnOpenApiDocumentThatReflectionSwitches()
    {
        await using var regression = await Hosts.Start(RegressionGrpcService.Module, httpPort: 0);
        await using var indexing = await Hosts.Start(IndexingGrpcService.Module, httpPort: 0);
        foreach (var (host, route, request, response) in new[]
        {
            (regression, "/v1/regression:fit", "FitRequest", "FitResponse"),
            (indexing, "/v1/indexing:computeIndex", "ComputeIndexRequest", "ComputeIndexResponse"),
        })
        {
            using var answer = await _http.GetAsync(new Uri(host.HttpAddress!, "/openapi/v1.json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var doc = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
            var post = doc.GetProperty("paths").GetProperty(route).GetProperty("post");
            Assert.EndsWith(
                "/" + request,
                post.GetProperty("requestBody")
                    .GetProperty("content")
                    .GetProperty("application/json")
                    .GetProperty("schema")
                    .GetProperty("$ref")
                    .GetString()
            );
            var responses = post.GetProperty("responses");
            Assert.EndsWith(
                "/" + response,
                responses.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()
            );
            // Errors are google.rpc.Status.
            Assert.EndsWith(
                "/Status",
                responses.GetProperty("default").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()
            );
        }
        // The fit request's schema has the fields a client sends, in proto3 JSON names.
        using (var answer = await _http.GetAsync(new Uri(regression.HttpAddress!, "/openapi/v1.json")))
        {
            var schemas = JsonDocument.Parse(await answer.Content.ReadAsStringAsync())
                .RootElement.GetProperty("components")
                .GetProperty("schemas");
            var fields = schemas.GetProperty("FitRequest").GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
            foreach (var f in new[] { "dependent", "regressors", "columns", "covarianceType", "bootstrap" })
                Assert.Contains(f, fields);
        }

        // Production switches reflection off, and the document with it.
        await using var quiet = await Hosts.Start(
            RegressionGrpcService.Module,
            settings: new Dictionary<string, string?> { [ConfigurationKeys.ReflectionKey] = "false" },
            httpPort: 0
        );
        using var off = await _http.GetAsync(new Uri(quiet.HttpAddress!, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.NotFound, off.StatusCode);
    }
}
