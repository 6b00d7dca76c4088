using ResilienceGrpc.ServiceDefaults;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// The deployment's network policies, evaluated (not just read): the flows they allow are
/// exactly the ones the system needs. And every secret comes from a Secret.
/// </summary>
public partial class DeployTests
{
    private static readonly string[] Pods = ["study", "indexing", "projection", "regression", "redis", "jaeger"];

    /// <summary>Whether a pod selector (<c>{}</c>, <c>matchLabels.app</c> or <c>matchExpressions app In</c>) selects the app.</summary>
    private static bool Selects(YamlNode? selector, string app)
    {
        if (selector is not YamlMappingNode m)
            return false;
        if (Text(m, "matchLabels", "app") is { } label && label != app)
            return false;
        if (At(m, "matchExpressions") is YamlSequenceNode expressions)
            foreach (var e in expressions.Children)
            {
                var values = ((YamlSequenceNode)At(e, "values")!).Children.Select(v => ((YamlScalarNode)v).Value);
                if (Text(e, "key") != "app" || Text(e, "operator") != "In" || !values.Contains(app))
                    return false;
            }
        return true;
    }

    /// <summary>Whether a peer (<c>from</c>/<c>to</c> entry) is the endpoint: our pods by pod selector, cluster DNS by the kube-system namespace.</summary>
    private static bool Matches(YamlNode peer, string endpoint) =>
        endpoint == "dns"
            ? Text(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") == "kube-system"
            : endpoint != "client"
                && At(peer, "namespaceSelector") is null
                && Selects(At(peer, "podSelector"), endpoint);

    /// <summary>Whether the rules of the policies that select <paramref name="pod"/> for a direction allow the peer and port.</summary>
    private static bool Admits(List<YamlMappingNode> policies, string pod, string type, string peer, int port)
    {
        string rulesKey = type == "Ingress" ? "ingress" : "egress",
            peersKey = type == "Ingress" ? "from" : "to";
        var selecting = policies
            .Where(p =>
                Selects(At(p, "spec", "podSelector"), pod)
                && ((YamlSequenceNode)At(p, "spec", "policyTypes")!).Children.Any(t =>
                    ((YamlScalarNode)t).Value == type
                )
            )
            .ToList();
        if (selecting.Count == 0)
            return true;
        return selecting.Any(p =>
            At(p, "spec", rulesKey) is YamlSequenceNode rules
            && rules.Children.Any(r =>
                (At(r, peersKey) is not YamlSequenceNode peers || peers.Children.Any(x => Matches(x, peer)))
                && (
                    At(r, "ports") is not YamlSequenceNode ports
                    || ports.Children.Any(x => Text(x, "port") == port.ToString())
                )
            )
        );
    }

    [Fact]
    public void TheNetworkPoliciesAllowExactlyTheFlowsTheSystemNeeds()
    {
        var policies = RenderedKubernetes().Where(d => Text(d, "kind") == "NetworkPolicy").ToList();
        var allowed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var source in Pods.Append("client"))
            foreach (var target in Pods.Append("dns"))
                foreach (var port in new[] { 53, 4317, 6379, 8080, 16686 })
                {
                    if (source == target || (source == "client" && target == "dns"))
                        continue; // nothing of ours on either end
                    bool egress = source == "client" || Admits(policies, source, "Egress", target, port);
                    bool ingress = target == "dns" || Admits(policies, target, "Ingress", source, port);
                    if (egress && ingress)
                        allowed.Add($"{source}->{target}:{port}");
                }

        var expected = new SortedSet<string>(StringComparer.Ordinal)
        {
            "client->study:8080",
            "study->indexing:8080",
            "study->projection:8080",
            "study->regression:8080",
            "study->redis:6379",
        };
        foreach (var service in Ours)
        {
            expected.Add($"{service}->jaeger:4317");
            expected.Add($"{service}->dns:53");
        }
        Assert.Equal(expected, allowed);
    }

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        (YamlMappingNode)((YamlSequenceNode)At(deployment, "spec", "template", "spec", "containers")!).Children[0];

    private static Dictionary<string, YamlNode> EnvOf(YamlMappingNode container) =>
        At(container, "env") is YamlSequenceNode env ? env.Children.ToDictionary(e => Text(e, "name")!, e => e) : [];

    [Fact]
    public void EveryServiceNeedsTheTokenFromASecretAndRedisItsPasswordFromASecret()
    {
        var docs = RenderedKubernetes();
        var deployments = docs.Where(d => Text(d, "kind") == "Deployment")
            .ToDictionary(d => Text(d, "metadata", "name")!);
        foreach (var name in Ours)
        {
            var container = Container(deployments[name]);
            var file = Text(EnvOf(container)[ConfigurationKeys.TokenFile], "value")!;
            var mount = ((YamlSequenceNode)At(container, "volumeMounts")!).Children.Single(m =>
                file.StartsWith(Text(m, "mountPath")! + "/", StringComparison.Ordinal)
            );
            Assert.Equal("true", Text(mount, "readOnly"));
            var volume = (
                (YamlSequenceNode)At(deployments[name], "spec", "template", "spec", "volumes")!
            ).Children.Single(v => Text(v, "name") == Text(mount, "name"));
            Assert.StartsWith("service-token", Text(volume, "secret", "secretName"));
        }

        var redis = Container(deployments["redis"]);
        var args = ((YamlSequenceNode)At(redis, "args")!).Children.Select(a => ((YamlScalarNode)a).Value).ToList();
        Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
        foreach (var container in new[] { redis, Container(deployments["study"]) })
        {
            var env = EnvOf(container);
            Assert.StartsWith("redis-auth", Text(env["REDIS_PASSWORD"], "valueFrom", "secretKeyRef", "name"));
            Assert.Equal("password", Text(env["REDIS_PASSWORD"], "valueFrom", "secretKeyRef", "key"));
        }
        // $(VAR) expands only from variables defined earlier in the list.
        var studyEnv = ((YamlSequenceNode)At(Container(deployments["study"]), "env")!)
            .Children.Select(e => Text(e, "name"))
            .ToList();
        Assert.True(studyEnv.IndexOf("REDIS_PASSWORD") < studyEnv.IndexOf(ConfigurationKeys.Redis));

        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':')
            .Select(d => Path.Combine(d, "kubectl"))
            .FirstOrDefault(File.Exists);
        if (kubectl is not null)
        {
            // Development generates its secrets; production leaves them to the operator.
            Assert.Equal(2, docs.Count(d => Text(d, "kind") == "Secret"));
            Assert.DoesNotContain(Render(kubectl, "deploy/k8s/overlays/production"), d => Text(d, "kind") == "Secret");
        }

        // Compose: every service reads the token from a compose secret file that exists.
        var compose = Documents(File.ReadAllText(Path.Combine(Root, "deploy/compose/docker-compose.yml"))).Single();
        foreach (var name in Ours)
        {
            var service = Merged((YamlMappingNode)At(compose, "services", name)!);
            Assert.Equal("/run/secrets/service-token", Env(service["environment"])[ConfigurationKeys.TokenFile]);
        }
        var secretFile = Text(compose, "secrets", "service-token", "file")!;
        Assert.True(File.Exists(Path.Combine(Root, "deploy/compose", secretFile)));
    }

    [Fact]
    public void TheRegressionPodHoldsTwoOfTheLargestRequestsTheLimitsAllow()
    {
        var regression = RenderedKubernetes()
            .Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") == "regression");
        var limit = Text(Container(regression), "resources", "limits", "memory")!;
        long bytes = limit.EndsWith("Gi", StringComparison.Ordinal)
            ? long.Parse(limit[..^2]) << 30
            : long.Parse(limit[..^2]) << 20;
        var limits = new ResilienceGrpc.Regression.Api.RegressionLimits();
        // A request peaks near 2.8 times its data (StreamMemoryTests measures it; 3 allowed
        // here), above a baseline of about 100 MiB; the .NET heap may use 75% of the limit.
        long largest = 3 * sizeof(double) * Math.Max(limits.MaxStreamedValues, limits.MaxDesignValues);
        Assert.True(
            0.75 * bytes >= (100L << 20) + 2 * largest,
            $"{limit} holds less than two requests of {largest >> 20} MiB"
        );
        // Outside the heap, the streams' pooled blocks may still be held (for a second) while
        // two such requests run.
        long pooled = ResilienceGrpc.Regression.Api.RegressionGrpcService.PooledStreamBytes;
        Assert.True(
            bytes >= (100L << 20) + 2 * largest + pooled,
            $"{limit} holds less than two requests of {largest >> 20} MiB and {pooled >> 20} MiB of pooled blocks"
        );
    }
}
