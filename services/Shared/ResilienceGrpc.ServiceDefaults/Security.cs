using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Configuration;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// A server's transport and caller security, from configuration (checked at start):
/// <list type="bullet">
/// <item><c>Tls:CertificateFile</c> and <c>Tls:KeyFile</c> (PEM): serve TLS (HTTP/2 over ALPN) instead of h2c;</item>
/// <item><c>Auth:TokenFile</c>: every call except health needs <c>authorization: Bearer &lt;token&gt;</c>, a token being
/// any non-empty line of the file (several lines let a token be rotated);</item>
/// <item><c>Tls:CaFile</c> (PEM): the certificate a client trusts for the services it calls, beside the system's roots.</item>
/// </list>
/// Tokens live in files only, never on a command line, where any user of the machine could read them.
/// </summary>
public sealed record ServerSecurity(X509Certificate2? Certificate, IReadOnlyList<string> Tokens)
{
    public const string CertificateKey = "Tls:CertificateFile";
    public const string PrivateKeyKey = "Tls:KeyFile";
    public const string TokenKey = "Auth:TokenFile";
    public const string TrustKey = "Tls:CaFile";

    public static ServerSecurity None { get; } = new(null, []);

    /// <summary>Reads the keys above; a missing or unreadable file stops the server with a message naming the key.</summary>
    public static ServerSecurity From(IConfiguration config)
    {
        X509Certificate2? certificate = null;
        string? cert = config[CertificateKey],
            key = config[PrivateKeyKey];
        if (!string.IsNullOrEmpty(cert) || !string.IsNullOrEmpty(key))
        {
            if (string.IsNullOrEmpty(cert) || string.IsNullOrEmpty(key))
                throw new InvalidConfigurationException(
                    $"TLS needs both {CertificateKey} and {PrivateKeyKey} (PEM files; --tls-cert and --tls-key on 'resilience serve')."
                );
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(cert, key);
                // Kestrel needs the key in a form the platform's TLS can use: round-trip through PKCS#12.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
                throw new InvalidConfigurationException(
                    $"{CertificateKey} = '{cert}' with {PrivateKeyKey} = '{key}' cannot be used: {Reason(e, "they are not a PEM certificate and its private key")}."
                );
            }
        }
        return new ServerSecurity(certificate, ReadTokens(config[TokenKey]));
    }

    /// <summary>Why a file could not be used, in words (never an exception's name or text).</summary>
    private static string Reason(Exception e, string unreadable) =>
        e switch
        {
            FileNotFoundException or DirectoryNotFoundException => "the file does not exist",
            UnauthorizedAccessException => "permission denied",
            CryptographicException => unreadable,
            _ => "the file cannot be read",
        };

    /// <summary>The tokens of <c>Auth:TokenFile</c> (none when it is not set).</summary>
    public static IReadOnlyList<string> ReadTokens(string? file)
    {
        if (string.IsNullOrEmpty(file))
            return [];
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidConfigurationException($"{TokenKey} = '{file}' cannot be read: {Reason(e, "")}.");
        }
        var tokens = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
            throw new InvalidConfigurationException($"{TokenKey} = '{file}' holds no token; write one per line.");
        if (tokens.Any(t => t.Length < 16 || t.Any(c => c <= ' ' || c > '~')))
            throw new InvalidConfigurationException(
                $"{TokenKey} = '{file}': a token must be at least 16 printable ASCII characters without spaces."
            );
        return tokens;
    }

    /// <summary>The certificate of <c>Tls:CaFile</c>, or null.</summary>
    public static X509Certificate2? ReadTrust(string? file)
    {
        if (string.IsNullOrEmpty(file))
            return null;
        try
        {
            return X509CertificateLoader.LoadCertificate(Encoding.ASCII.GetBytes(File.ReadAllText(file)));
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidConfigurationException(
                $"{TrustKey} = '{file}' cannot be used: {Reason(e, "it is not a PEM certificate")}."
            );
        }
    }
}

/// <summary>
/// Refuses a call without one of the configured bearer tokens (UNAUTHENTICATED), before any
/// other interceptor or the service sees it. Health stays open for probes and load balancers.
/// Tokens are compared in constant time.
/// </summary>
public sealed class BearerTokenInterceptor(ServerSecurity security) : Interceptor
{
    private readonly byte[][] _tokens = security.Tokens.Select(Encoding.ASCII.GetBytes).ToArray();

    private const string Scheme = "Bearer ";

    private void Check(ServerCallContext context)
    {
        if (_tokens.Length == 0 || context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
            return;
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            throw new RpcException(
                new Status(
                    StatusCode.Unauthenticated,
                    "This service needs a bearer token: send 'authorization: Bearer <token>' (the CLI's --token-file)."
                )
            );
        if (!Matches(_tokens, header))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The bearer token is not valid."));
    }

    /// <summary>Whether an <c>authorization</c> header carries one of the tokens (always, when none is configured).</summary>
    public static bool Accepts(ServerSecurity security, string? header) =>
        security.Tokens.Count == 0
        || header is not null
            && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && Matches(security.Tokens.Select(Encoding.ASCII.GetBytes).ToArray(), header);

    private static bool Matches(byte[][] tokens, string header)
    {
        var given = Encoding.ASCII.GetBytes(header[Scheme.Length..].Trim());
        bool match = false;
        foreach (var t in tokens)
            match |= CryptographicOperations.FixedTimeEquals(t, given);
        return match;
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation
    )
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation
    )
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }
}

/// <summary>What a client adds to its calls: a bearer token, and a certificate to trust for TLS.</summary>
public sealed record ChannelSecurity(string? Token, X509Certificate2? Trust)
{
    public static ChannelSecurity None { get; } = new(null, null);

    /// <summary>A server's outbound security: its own token (forwarded to the services it calls) and <c>Tls:CaFile</c>.</summary>
    public static ChannelSecurity From(IConfiguration config) =>
        new(
            ServerSecurity.ReadTokens(config[ServerSecurity.TokenKey]).FirstOrDefault(),
            ServerSecurity.ReadTrust(config[ServerSecurity.TrustKey])
        );
}
