using System.Diagnostics;
using ResilienceGrpc.ServiceDefaults;
using ResilienceGrpc.Tests.Support;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace ResilienceGrpc.Operations.Tests;

/// <summary>
/// No container engine runs here, so the deployment is checked as text: every manifest
/// parses; every Deployment has probes, resources and a hardened security context; the
/// regression service is headless with an autoscaler; and the names agree between
/// compose, Kubernetes and the configuration keys the code reads.
/// </summary>
public partial class DeployTests
{
    private static readonly string Root = Repository.Root;

    private static readonly string[] Ours = ["indexing", "projection", "regression", "study"];

    private static List<YamlMappingNode> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode(key), out var next))
                return null;
            node = next;
        }
        return node;
    }

    private static string? Text(YamlNode node, params string[] path) => (At(node, path) as YamlScalarNode)?.Value;

    /// <summary>A compose service with YAML merge keys (&lt;&lt;: *anchor) applied.</summary>
    private static Dictionary<string, YamlNode> Merged(YamlMappingNode service)
    {
        var result = new Dictionary<string, YamlNode>();
        if (service.Children.TryGetValue(new YamlScalarNode("<<"), out var baseNode) && baseNode is YamlMappingNode b)
            foreach (var (k, v) in Merged(b))
                result[k] = v;
        foreach (var (k, v) in service.Children)
            if (((YamlScalarNode)k).Value != "<<")
                result[((YamlScalarNode)k).Value!] = v;
        return result;
    }

    private static Dictionary<string, string> Env(YamlNode? node)
    {
        var env = new Dictionary<string, string>();
        if (node is YamlMappingNode m)
        {
            if (m.Children.TryGetValue(new YamlScalarNode("<<"), out var b))
                foreach (var kv in Env(b))
                    env[kv.Key] = kv.Value;
            foreach (var (k, v) in m.Children)
                if (((YamlScalarNode)k).Value != "<<")
                    env[((YamlScalarNode)k).Value!] = ((YamlScalarNode)v).Value!;
        }
        return env;
    }

    [Fact]
    public void EveryYamlFileParses()
    {
        var files = Directory
            .GetFiles(Path.Combine(Root, "deploy"), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(Root, "deploy"), "*.yml", SearchOption.AllDirectories))
            .ToList();
        Assert.True(files.Count >= 10, $"found {files.Count} manifests");
        foreach (var f in files)
            Assert.NotEmpty(Documents(File.ReadAllText(f)));
    }

    [Fact]
    public void ComposeRunsRedisJaegerTheServicesAndTheOrchestratorInHealthGatedOrder()
    {
        var compose = Documents(File.ReadAllText(Path.Combine(Root, "deploy/compose/docker-compose.yml"))).Single();
        var services = (YamlMappingNode)At(compose, "services")!;
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet();
        Assert.Superset(new HashSet<string>(Ours.Append("redis").Append("jaeger")), names);
        Assert.Contains(
            ((YamlSequenceNode)At(services, "jaeger", "ports")!).Children,
            p => ((YamlScalarNode)p).Value!.EndsWith(":4317", StringComparison.Ordinal)
        );
        // Every published port is bound to this machine's loopback, never to all interfaces.
        foreach (var (_, service) in services.Children)
            if (At(service, "ports") is YamlSequenceNode ports)
                Assert.All(ports.Children, p => Assert.StartsWith("127.0.0.1:", ((YamlScalarNode)p).Value));

        foreach (var name in Ours)
        {
            var s = Merged((YamlMappingNode)At(services, name)!);
            if (name == "study")
            {
                // The study server's own image, with no client code; the environment configures it.
                Assert.Equal("resilience-grpc-study:dev", ((YamlScalarNode)s["image"]).Value);
                Assert.Equal("study", Text(s["build"], "target"));
                Assert.False(s.ContainsKey("command"));
                Assert.Contains(
                    "ResilienceGrpc.Study.dll",
                    string.Join(
                        " ",
                        ((YamlSequenceNode)At(s["healthcheck"], "test")!).Children.Select(c =>
                            ((YamlScalarNode)c).Value
                        )
                    )
                );
            }
            else
            {
                var command = ((YamlSequenceNode)s["command"]).Children.Select(c => ((YamlScalarNode)c).Value).ToList();
                Assert.Equal(
                    ["serve", name, "--port", ConfigurationKeys.ContainerPort.ToString(), "--bind", "0.0.0.0"],
                    command
                );
            }
            Assert.True(s.ContainsKey("healthcheck"), $"{name} has no healthcheck");
            Assert.Contains(
                "health",
                string.Join(
                    " ",
                    ((YamlSequenceNode)At(s["healthcheck"], "test")!).Children.Select(c => ((YamlScalarNode)c).Value)
                )
            );
            Assert.Equal("true", ((YamlScalarNode)s["read_only"]).Value);
            Assert.Equal("http://jaeger:4317", Env(s["environment"])[ConfigurationKeys.OtlpEndpoint]);
        }

        var study = Merged((YamlMappingNode)At(services, "study")!);
        var env = Env(study["environment"]);
        foreach (var svc in new[] { "indexing", "projection" })
            Assert.Equal($"http://{svc}:{ConfigurationKeys.ContainerPort}", env[ConfigurationKeys.ServiceAddress(svc)]);
        Assert.Equal(
            $"dns:///regression:{ConfigurationKeys.ContainerPort}",
            env[ConfigurationKeys.ServiceAddress("regression")]
        );
        Assert.StartsWith("redis:6379,password=${REDIS_PASSWORD", env[ConfigurationKeys.Redis]);
        var depends = (YamlMappingNode)study["depends_on"];
        foreach (var dep in new[] { "redis", "indexing", "projection", "regression" })
            Assert.Equal("service_healthy", Text(depends, dep, "condition"));
    }

    [Fact]
    public void TheProductionOverlaySwitchesReflectionOffOnEveryServiceAndDevKeepsIt()
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':')
            .Select(d => Path.Combine(d, "kubectl"))
            .FirstOrDefault(File.Exists);
        if (kubectl is null)
            return; // rendering needs kubectl (kustomize); without it the overlay is checked as text below
        var production = Render(kubectl, "deploy/k8s/overlays/production");
        var development = Render(kubectl, "deploy/k8s/overlays/dev");
        foreach (var (docs, expected) in new[] { (production, "false"), (development, (string?)null) })
        {
            var deployments = docs.Where(d =>
                    Text(d, "kind") == "Deployment" && Ours.Contains(Text(d, "metadata", "name"))
                )
                .ToList();
            Assert.Equal(Ours.Length, deployments.Count);
            foreach (var d in deployments)
            {
                var c = ((YamlSequenceNode)At(d, "spec", "template", "spec", "containers")!).Children[0];
                var env = At(c, "env") is YamlSequenceNode list
                    ? list.Children.ToDictionary(e => Text(e, "name")!, e => Text(e, "value"))
                    : [];
                Assert.Equal(expected, env.GetValueOrDefault(ConfigurationKeys.Reflection));
                if (Text(d, "metadata", "name") == "study")
                    Assert.True(
                        env.ContainsKey(ConfigurationKeys.ServiceAddress("regression")),
                        "the study keeps its own settings"
                    );
            }
        }
    }

    private static List<YamlMappingNode> Render(string kubectl, string overlay)
    {
        var psi = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Root, overlay)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "kubectl kustomize failed: " + error);
        return Documents(output);
    }

    private static List<YamlMappingNode> RenderedKubernetes()
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':')
            .Select(d => Path.Combine(d, "kubectl"))
            .FirstOrDefault(File.Exists);
        if (kubectl is not null)
        {
            var psi = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Root, "deploy/k8s/overlays/dev")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, "kubectl kustomize failed: " + error);
            return Documents(output);
        }
        // Without kubectl: the base and overlay resources as listed in their kustomizations.
        var docs = new List<YamlMappingNode>();
        foreach (var dir in new[] { "deploy/k8s/base", "deploy/k8s/overlays/dev" })
        {
            var k = Documents(File.ReadAllText(Path.Combine(Root, dir, "kustomization.yaml"))).Single();
            foreach (
                var r in ((YamlSequenceNode)At(k, "resources")!)
                    .Children.Select(c => ((YamlScalarNode)c).Value!)
                    .Where(r => r.EndsWith(".yaml", StringComparison.Ordinal))
            )
                docs.AddRange(Documents(File.ReadAllText(Path.Combine(Root, dir, r))));
        }
        return docs;
    }

    [Fact]
    public void EveryDeploymentHasGrpcProbesResourcesAndAHardenedSecurityContext()
    {
        var docs = RenderedKubernetes();
        var deployments = docs.Where(d => Text(d, "kind") == "Deployment").ToList();
        Assert.Superset(
            new HashSet<string>(Ours.Append("redis")),
            deployments.Select(d => Text(d, "metadata", "name")!).ToHashSet()
        );
        foreach (var d in deployments)
        {
            string name = Text(d, "metadata", "name")!;
            Assert.Equal("true", Text(d, "spec", "template", "spec", "securityContext", "runAsNonRoot"));
            foreach (var c in ((YamlSequenceNode)At(d, "spec", "template", "spec", "containers")!).Children)
            {
                Assert.NotNull(At(c, "readinessProbe"));
                Assert.NotNull(At(c, "livenessProbe"));
                foreach (var r in new[] { "requests", "limits" })
                    foreach (var q in new[] { "cpu", "memory" })
                        Assert.True(At(c, "resources", r, q) is not null, $"{name} lacks resources.{r}.{q}");
                Assert.Equal("true", Text(c, "securityContext", "readOnlyRootFilesystem"));
                Assert.Equal("false", Text(c, "securityContext", "allowPrivilegeEscalation"));
                Assert.Contains(
                    ((YamlSequenceNode)At(c, "securityContext", "capabilities", "drop")!).Children,
                    x => ((YamlScalarNode)x).Value == "ALL"
                );
                if (Ours.Contains(name))
                {
                    Assert.Equal(ConfigurationKeys.ContainerPort.ToString(), Text(c, "readinessProbe", "grpc", "port"));
                    Assert.Equal(ConfigurationKeys.ContainerPort.ToString(), Text(c, "livenessProbe", "grpc", "port"));
                    if (name == "study")
                    {
                        Assert.StartsWith("resilience-grpc-study:", Text(c, "image"));
                        Assert.Null(At(c, "args"));
                    }
                    else
                    {
                        var args = ((YamlSequenceNode)At(c, "args")!)
                            .Children.Select(a => ((YamlScalarNode)a).Value)
                            .ToList();
                        Assert.Equal(
                            ["serve", name, "--port", ConfigurationKeys.ContainerPort.ToString(), "--bind", "0.0.0.0"],
                            args
                        );
                    }
                }
            }
        }
    }

    [Fact]
    public void TheRegressionServiceIsHeadlessAutoscaledAndDialledRoundRobinByTheOrchestrator()
    {
        var docs = RenderedKubernetes();
        var services = docs.Where(d => Text(d, "kind") == "Service").ToDictionary(d => Text(d, "metadata", "name")!);
        Assert.Superset(new HashSet<string>(Ours.Append("redis")), services.Keys.ToHashSet());
        Assert.Equal("None", Text(services["regression"], "spec", "clusterIP"));
        foreach (var name in Ours)
            Assert.Contains(
                ((YamlSequenceNode)At(services[name], "spec", "ports")!).Children,
                p => Text(p, "port") == ConfigurationKeys.ContainerPort.ToString()
            );

        var hpa = docs.Single(d => Text(d, "kind") == "HorizontalPodAutoscaler");
        Assert.Equal("regression", Text(hpa, "spec", "scaleTargetRef", "name"));
        Assert.Equal("cpu", Text(((YamlSequenceNode)At(hpa, "spec", "metrics")!).Children[0], "resource", "name"));

        var study = docs.Single(d => Text(d, "kind") == "Deployment" && Text(d, "metadata", "name") == "study");
        var env = (
            (YamlSequenceNode)
                At(((YamlSequenceNode)At(study, "spec", "template", "spec", "containers")!).Children[0], "env")!
        ).Children.ToDictionary(e => Text(e, "name")!, e => Text(e, "value")!);
        Assert.Equal(
            $"dns:///regression:{ConfigurationKeys.ContainerPort}",
            env[ConfigurationKeys.ServiceAddress("regression")]
        );
        Assert.Equal(
            $"http://indexing:{ConfigurationKeys.ContainerPort}",
            env[ConfigurationKeys.ServiceAddress("indexing")]
        );
        Assert.Equal(
            $"http://projection:{ConfigurationKeys.ContainerPort}",
            env[ConfigurationKeys.ServiceAddress("projection")]
        );
        Assert.Equal("redis:6379,password=$(REDIS_PASSWORD)", env[ConfigurationKeys.Redis]);
        var otlp = new Uri(env[ConfigurationKeys.OtlpEndpoint]);
        Assert.Contains(docs, d => Text(d, "kind") == "Service" && Text(d, "metadata", "name") == otlp.Host);
    }

    [Fact]
    public void TheDockerfileIsMultiStageNonRootAndRunsTheCommandLine()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "deploy/docker/Dockerfile"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.True(froms.Count >= 2, "multi-stage");
        Assert.Contains("sdk", froms[0]);
        Assert.DoesNotContain("sdk", froms[^1]);
        var finalStage = lines.SkipWhile(l => l != froms[^1]).ToList();
        var user = finalStage.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))[5..].Split(':')[0];
        Assert.True(int.TryParse(user, out int uid) && uid > 0, $"runs as {user}");
        Assert.Contains(
            finalStage,
            l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal) && l.Contains("resilience.dll")
        );
        Assert.True(
            File.Exists(Path.Combine(AppContext.BaseDirectory, "resilience.dll")),
            "the CLI's assembly is named resilience.dll"
        );
    }
}
