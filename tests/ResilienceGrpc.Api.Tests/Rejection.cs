using Google.Rpc;
using Grpc.Core;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>Assertions on rich error statuses.</summary>
public static class Rejection
{
    /// <summary>Runs the call, asserts the status code and a field violation on <paramref name="field"/>, and returns the message.</summary>
    public static async Task<string> Expect(StatusCode code, string field, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.NotEqual(StatusCode.Unknown, e.StatusCode);
        Assert.True(code == e.StatusCode, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        var status = e.GetRpcStatus();
        Assert.NotNull(status);
        var bad = status!.GetDetail<BadRequest>();
        Assert.NotNull(bad);
        Assert.Contains(bad!.FieldViolations, v => v.Field == field);
        Assert.DoesNotContain("   at ", e.Status.Detail);
        Assert.EndsWith(".", e.Status.Detail.TrimEnd());
        return e.Status.Detail;
    }

    /// <summary>Expects the same rejection from <c>Fit</c> and from <c>FitStream</c> (the streamed RPC validates the same way); returns the message.</summary>
    public static async Task<string> ExpectFit(
        Contracts.Regression.V1.RegressionService.RegressionServiceClient client,
        StatusCode code,
        string field,
        Contracts.Regression.V1.FitRequest request
    )
    {
        var message = await Expect(code, field, () => client.FitAsync(request).ResponseAsync);
        var streamed = await Expect(
            code,
            field,
            () => Cli.Verbs.Stream(client, request, null, DateTime.UtcNow.AddMinutes(1), CancellationToken.None)
        );
        Assert.Equal(message, streamed);
        return message;
    }
}
