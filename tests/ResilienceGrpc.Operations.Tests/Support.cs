using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using ResilienceGrpc.Contracts.Study.V1;
using ResilienceGrpc.Indexing.Api;
using ResilienceGrpc.Projection.Api;
using ResilienceGrpc.Regression.Api;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Study;
using ResilienceGrpc.Study.Caching;
using ResilienceGrpc.Tests.Support;
using Xunit;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian's) on a free loopback port, started and stopped by the
/// test. Missing redis-server skips the Redis tests, unless <c>REQUIRE_REDIS=1</c> (set by
/// .ci/run), which makes it a failure.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public static bool Required => Environment.GetEnvironmentVariable("REQUIRE_REDIS") == "1";

    public static string? Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':')
            .Append("/usr/bin")
            .Append("/usr/sbin")
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <summary>Why the Redis tests skip (null when they run).</summary>
    public static string? SkipReason =>
        ToolRequirement.SkipReason(
            Executable is not null || Required,
            "REQUIRE_REDIS",
            "redis-server is not installed (Debian package redis-server)"
        );

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Starts redis-server on <paramref name="port"/> (a free one when null) and waits until it answers.</summary>
    public static async Task<RedisServer> StartAsync(int? port = null)
    {
        var exe =
            Executable
            ?? throw new InvalidOperationException(
                "redis-server is required (REQUIRE_REDIS=1) but was not found; install Debian's redis-server."
            );
        int chosen = port ?? FreePort();
        var psi = new ProcessStartInfo(exe)
        {
            ArgumentList =
            {
                "--port",
                chosen.ToString(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, chosen);
        for (int i = 0; i < 100; i++)
        {
            try
            {
                if (await server.CommandAsync("PING") == "+PONG")
                    return server;
            }
            catch (SocketException) { }
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server did not answer on port {chosen}.");
    }

    /// <summary>Sends one command in RESP and returns the first line of the reply.</summary>
    public async Task<string> CommandAsync(params string[] args)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var sb = new StringBuilder($"*{args.Length}\r\n");
        foreach (var a in args)
            sb.Append($"${Encoding.UTF8.GetByteCount(a)}\r\n{a}\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()));
        var buffer = new byte[4096];
        int n = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n).Split("\r\n")[0];
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A fact that needs redis-server: skipped when it is missing, unless REQUIRE_REDIS=1.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.SkipReason is { } reason)
            Skip = reason;
    }
}
