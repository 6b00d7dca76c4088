using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Client.Embedded;

/// <summary>
/// The configuration of a service the command line starts inside its own process. Its security
/// comes from the command line only (<c>--token-file</c>, <c>--tls-ca</c>), never from the
/// environment: a shell or container that exports <c>Auth__TokenFile</c> for the services it
/// deploys would otherwise make the embedded backends demand a token that the embedded study
/// service and the command line's own client never send. An empty value switches a key off
/// (a missing one would let the environment's through).
/// </summary>
public static class EmbeddedSettings
{
    private static readonly string[] SecurityKeys =
    [
        ServerSecurity.CertificateKey,
        ServerSecurity.PrivateKeyKey,
        ServerSecurity.TokenKey,
        ServerSecurity.TrustKey,
    ];

    /// <summary><paramref name="given"/>'s settings, with every security key it leaves unset switched off.</summary>
    public static IReadOnlyDictionary<string, string?> Of(IReadOnlyDictionary<string, string?>? given = null)
    {
        var settings = new Dictionary<string, string?>(given ?? new Dictionary<string, string?>());
        foreach (var key in SecurityKeys)
            if (string.IsNullOrEmpty(settings.GetValueOrDefault(key)))
                settings[key] = "";
        return settings;
    }
}
