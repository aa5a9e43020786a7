using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Diabetes.Testing;
using k8s;
using k8s.Models;

namespace Diabetes.Deployment.Tests;

/// <summary>
/// What <c>kubectl apply -k deploy/k8s</c> would install, checked without a cluster: it renders, every object is a
/// valid typed Kubernetes object, it is the graph of <c>aspire-manifest.json</c>, and it is safe to run (probes,
/// limits, non-root, secrets only in the Secret, only the web site exposed).
/// </summary>
public partial class KubernetesDeploymentTests(KubernetesDeploymentTests.Rendering rendering) : IClassFixture<KubernetesDeploymentTests.Rendering>
{
    private static readonly string[] DotnetServices = ["ingest", "trainer", "inference", "web"];

    public sealed class Rendering : IAsyncLifetime
    {
        public RenderedDeployment Deployment { get; private set; } = null!;

        public async Task InitializeAsync() => Deployment = await RenderedDeployment.RenderAsync();

        public Task DisposeAsync() => Task.CompletedTask;
    }

    private RenderedDeployment Deployment => rendering.Deployment;

    /// <summary>The resources of the manifest that run as a process: containers and projects.</summary>
    public static TheoryData<string> ManifestWorkloads()
    {
        var names = new TheoryData<string>();
        foreach (var (name, resource) in RenderedDeployment.Manifest)
        {
            if ((string?)resource!["type"] is "container.v0" or "container.v1" or "project.v0")
            {
                names.Add(name);
            }
        }

        return names;
    }

    [Fact]
    public void TheTreeRendersIntoTypedObjectsOfOneNamespace()
    {
        Assert.All(Deployment.Objects, o => Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o));
        var namespaced = Deployment.Objects.Cast<IKubernetesObject<V1ObjectMeta>>().Where(o => o is not V1Namespace).ToArray();
        Assert.All(namespaced, o => Assert.Equal("diabetes", o.Metadata.NamespaceProperty));
        Assert.Equal("diabetes", Assert.Single(Deployment.OfKind<V1Namespace>()).Metadata.Name);
    }

    [Theory]
    [MemberData(nameof(ManifestWorkloads))]
    public void EachManifestResourceHasItsWorkloadServicePortsAndVariables(string name)
    {
        var resource = RenderedDeployment.Manifest[name]!;
        var isProject = (string?)resource["type"] == "project.v0";

        // Assert: a workload and a Service of the same name
        Assert.True(Deployment.Workloads.TryGetValue(name, out var pod), $"No Deployment or StatefulSet named {name}.");
        var service = Deployment.Named<V1Service>(name);
        var container = pod!.Spec.Containers[0];

        // Assert: each binding is a Service port of the same name on the same target port. A project's https binding
        // has no port: no TLS inside the cluster (the services listen on HTTP_PORTS only).
        foreach (var (bindingName, binding) in resource["bindings"]!.AsObject())
        {
            if (isProject && bindingName == "https")
            {
                continue;
            }

            var targetPort = (int?)binding!["targetPort"] ?? 8080;
            var port = service.Spec.Ports.SingleOrDefault(p => p.Name == bindingName);
            Assert.True(port is not null, $"Service {name} has no port {bindingName}.");
            Assert.Equal(targetPort.ToString(System.Globalization.CultureInfo.InvariantCulture), port.TargetPort.Value);
            Assert.Contains(container.Ports, p => p.ContainerPort == targetPort);
        }

        // Assert: every variable of the manifest, but the https addresses nothing in the cluster answers (a
        // https+http:// client would try them first).
        var expected = resource["env"]?.AsObject().Select(e => e.Key).Where(k => !HttpsAddress().IsMatch(k)) ?? [];
        var actual = container.Env.Select(e => e.Name).ToHashSet();
        Assert.True(actual.IsSupersetOf(expected), $"{name} lacks {string.Join(", ", expected.Except(actual))}.");
        Assert.Equal(name, service.Spec.Selector["app.kubernetes.io/name"]);
        Assert.Equal(name, pod.Metadata.Labels["app.kubernetes.io/name"]);
    }

    [Fact]
    public void EveryDatabaseOfTheManifestIsCreatedByThePostgresInitScript()
    {
        var databases = RenderedDeployment.Manifest.Where(r => (string?)r.Value!["type"] == "value.v0")
            .Select(r => Regex.Match((string)r.Value!["connectionString"]!, @"Database=(\w+)").Groups[1].Value).ToArray();
        var script = Assert.Single(Deployment.OfKind<V1ConfigMap>(), c => c.Metadata.Name.StartsWith("postgres-init", StringComparison.Ordinal)).Data.Values.Single();

        Assert.Equal(["airflowdb", "cleandata", "mlflowdb", "monitoring", "rawdata"], databases.Order());
        Assert.All(databases, database => Assert.Contains($"CREATE DATABASE {database};", script));
        var postgres = Deployment.Named<V1StatefulSet>("postgres").Spec.Template.Spec;
        Assert.Contains(postgres.Containers[0].VolumeMounts, m => m.MountPath == "/docker-entrypoint-initdb.d");
    }

    [Fact]
    public void PostgresAndMinioKeepTheirDataOnPersistentVolumesAndAJobCreatesTheBuckets()
    {
        foreach (var name in new[] { "postgres", "minio" })
        {
            var statefulSet = Deployment.Named<V1StatefulSet>(name);
            var claim = Assert.Single(statefulSet.Spec.VolumeClaimTemplates);
            Assert.Contains(statefulSet.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.Name == claim.Metadata.Name);
        }

        var job = Deployment.Named<V1Job>("minio-buckets").Spec.Template.Spec.Containers[0];
        Assert.Contains("mc mb --ignore-existing platform/mlflow", job.Args.Single());
        Assert.Contains("mc mb --ignore-existing platform/datasets", job.Args.Single());
    }

    [Fact]
    public void EveryWorkloadHasProbesLimitsAndANonRootSecurityContext()
    {
        var pods = Deployment.Workloads.Select(w => (w.Key, Template: w.Value, Probed: true))
            .Concat(Deployment.OfKind<V1Job>().Select(j => (j.Metadata.Name, Template: j.Spec.Template, Probed: false)));

        foreach (var (name, template, probed) in pods)
        {
            var pod = template.Spec;
            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{name} may run as root.");
            Assert.True(pod.SecurityContext.RunAsUser is > 0, $"{name} names no non-root user.");
            foreach (var container in pod.Containers)
            {
                if (probed)
                {
                    Assert.True(container.LivenessProbe is not null && container.ReadinessProbe is not null, $"{name} lacks a liveness or readiness probe.");
                }

                Assert.True(container.Resources?.Limits?.ContainsKey("cpu") == true && container.Resources.Limits.ContainsKey("memory"), $"{name} has no limits.");
                Assert.True(container.Resources.Requests?.ContainsKey("cpu") == true && container.Resources.Requests.ContainsKey("memory"), $"{name} has no requests.");
                Assert.True(container.SecurityContext?.AllowPrivilegeEscalation == false, $"{name} may escalate privileges.");
                Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
            }
        }
    }

    [Theory]
    [InlineData("ingest")]
    [InlineData("trainer")]
    [InlineData("inference")]
    [InlineData("web")]
    public void EachServiceIsProbedOnHealthAndAliveWithARootFilesystemItCannotWrite(string name)
    {
        var container = Deployment.Named<V1Deployment>(name).Spec.Template.Spec.Containers.Single();

        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.StartupProbe.HttpGet.Path);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Contains(container.VolumeMounts, m => m.MountPath == "/tmp");
        Assert.Equal($"localhost:32000/diabetes-{name}:1.0.0", container.Image);
    }

    [Fact]
    public void MlflowIsRestartedWhenItFallsOrStopsAnswering()
    {
        var pod = Deployment.Named<V1Deployment>("mlflow").Spec.Template.Spec;
        var container = pod.Containers.Single();

        Assert.Equal("Always", pod.RestartPolicy);
        Assert.Equal("/health", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("5000", container.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("localhost:32000/diabetes-mlflow:1.0.0", container.Image);
        Assert.Equal("s3://mlflow", container.Env.Single(e => e.Name == "MLFLOW_ARTIFACTS_DESTINATION").Value);
        Assert.EndsWith("@postgres:5432/mlflowdb", container.Env.Single(e => e.Name == "MLFLOW_BACKEND_STORE_URI").Value);
        Assert.Contains("mlflow:*", container.Env.Single(e => e.Name == "MLFLOW_SERVER_ALLOWED_HOSTS").Value);
    }

    [Fact]
    public void OnlyTheWebSiteIsReachableFromOutside()
    {
        var exposed = Deployment.OfKind<V1Service>().Where(s => s.Spec.Type is "NodePort" or "LoadBalancer").ToArray();

        var web = Assert.Single(exposed);
        Assert.Equal("web", web.Metadata.Name);
        Assert.Equal(30080, web.Spec.Ports.Single().NodePort);
        Assert.All(Deployment.OfKind<V1Service>().Except(exposed), s => Assert.Null(s.Spec.Type));
        Assert.Empty(Deployment.OfKind<V1Ingress>());
    }

    [Fact]
    public async Task TheIngressOverlayAddsARouteToTheWebSiteOnly()
    {
        var withIngress = await RenderedDeployment.RenderAsync("k8s-ingress");

        var ingress = Assert.Single(withIngress.OfKind<V1Ingress>());
        Assert.Equal("diabetes", ingress.Metadata.NamespaceProperty);
        Assert.Equal(Deployment.Objects.Count + 1, withIngress.Objects.Count);
        var backend = Assert.Single(ingress.Spec.Rules.SelectMany(r => r.Http.Paths)).Backend.Service;
        Assert.Equal("web", backend.Name);
        Assert.Equal("http", backend.Port.Name);
    }

    [Fact]
    public void InferenceScalesOnCpuFromOneToFourPodsAndTheTrainerStaysOne()
    {
        var autoscaler = Deployment.Named<V2HorizontalPodAutoscaler>("inference");
        var budget = Deployment.Named<V1PodDisruptionBudget>("inference");
        var trainer = Deployment.Named<V1Deployment>("trainer");

        Assert.Equal(("Deployment", "inference"), (autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.Equal((1, 4), (autoscaler.Spec.MinReplicas, autoscaler.Spec.MaxReplicas));
        Assert.Equal("cpu", Assert.Single(autoscaler.Spec.Metrics).Resource.Name);
        // The autoscaler owns the replica count; a fixed one would be reset at every apply.
        Assert.Null(Deployment.Named<V1Deployment>("inference").Spec.Replicas);
        Assert.Equal("inference", budget.Spec.Selector.MatchLabels["app.kubernetes.io/name"]);
        Assert.Equal((1, "Recreate"), (trainer.Spec.Replicas, trainer.Spec.Strategy.Type));
        Assert.DoesNotContain(Deployment.OfKind<V2HorizontalPodAutoscaler>(), a => a.Spec.ScaleTargetRef.Name == "trainer");
    }

    [Fact]
    public void AirflowRunsTheDagsOfTheRepositoryWithConnectionsToTheServices()
    {
        var pod = Deployment.Named<V1Deployment>("airflow").Spec.Template.Spec;
        var container = pod.Containers.Single();
        var dags = Assert.Single(Deployment.OfKind<V1ConfigMap>(), c => c.Metadata.Name.StartsWith("airflow-dags", StringComparison.Ordinal));
        var dagFolder = Path.Combine(TestData.RepositoryRoot, "airflow", "dags");
        var files = Directory.GetFiles(dagFolder).Select(Path.GetFileName).Order().ToArray();

        // The ConfigMap holds every file of airflow/dags as it is, each one mounted.
        Assert.Equal(files, dags.Data.Keys.Order());
        Assert.All(files, file => Assert.Equal(File.ReadAllText(Path.Combine(dagFolder, file!)), dags.Data[file!]));
        Assert.Equal(files.Select(f => $"/opt/airflow/dags/{f}"), container.VolumeMounts.Select(m => m.MountPath).Order());
        Assert.Equal("http://ingest:8080", container.Env.Single(e => e.Name == "AIRFLOW_CONN_INGEST_API").Value);
        Assert.Equal("http://trainer:8080", container.Env.Single(e => e.Name == "AIRFLOW_CONN_TRAINER_API").Value);
        Assert.Equal("http://inference:8080", container.Env.Single(e => e.Name == "AIRFLOW_CONN_INFERENCE_API").Value);
        Assert.Equal(RenderedDeployment.Manifest["airflow"]!["args"]!.AsArray().Select(a => (string)a!), container.Args);
    }

    [Theory]
    [InlineData("Diabetes.Trainer")]
    [InlineData("Diabetes.InferenceApi")]
    [InlineData("Diabetes.Web")]
    public void ServicesThatRunModelsOrDrawChartsAreBuiltOnTheBaseImageWithOpenMpAndAFont(string project)
    {
        // LightGBM's native library needs libgomp1, and ScottPlot a font: the plain ASP.NET image has neither.
        var csproj = System.Xml.Linq.XDocument.Load(Path.Combine(TestData.RepositoryRoot, project, $"{project}.csproj"));
        var dockerfile = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "deploy", "images", "dotnet-ml", "Dockerfile"));

        Assert.Equal("$(DiabetesMlBaseImage)", csproj.Descendants("ContainerBaseImage").Single().Value);
        Assert.Contains("libgomp1", dockerfile);
        Assert.Contains("fonts-dejavu-core", dockerfile);
        Assert.Contains("USER $APP_UID", dockerfile);
    }

    [Fact]
    public void EveryImageIsPinned()
    {
        var images = Deployment.Containers.Select(c => c.Image).ToArray();

        Assert.All(images, image => Assert.Matches(@"^[\w.\-/:]+:(?!latest$)[\w.\-]+$", image));
    }

    [Fact]
    public void CredentialsReachTheWorkloadsOnlyThroughTheGeneratedSecret()
    {
        var secret = Assert.Single(Deployment.OfKind<V1Secret>());
        var everythingElse = string.Join("\n", Deployment.Objects.Where(o => o is not V1Secret).Select(KubernetesYaml.Serialize));

        // The Secret holds what secrets.env said, and no other object holds any of it.
        Assert.StartsWith("diabetes-secrets", secret.Metadata.Name);
        Assert.Equal(Deployment.Secrets.Keys.Order(), secret.Data.Keys.Order());
        Assert.All(Deployment.Secrets, s => Assert.Equal(s.Value, System.Text.Encoding.UTF8.GetString(secret.Data[s.Key])));
        Assert.All(Deployment.Secrets.Values, value => Assert.DoesNotContain(value, everythingElse));

        // Every password, key and secret variable reads the Secret, or is built from variables that do.
        var variables = Deployment.Containers.SelectMany(c => c.Env).ToArray();
        foreach (var variable in variables.Where(v => SecretName().IsMatch(v.Name)))
        {
            Assert.True(variable.ValueFrom?.SecretKeyRef?.Name == secret.Metadata.Name, $"{variable.Name} does not read the Secret.");
        }

        foreach (var variable in variables.Where(v => v.Value is not null && CredentialInValue().IsMatch(v.Value)))
        {
            Assert.Matches(@"^\$\([A-Z0-9_]+\)$", CredentialInValue().Match(variable.Value).Groups["value"].Value);
        }

        // Every key read is one secrets.env.example asks for (a misspelt key leaves the pod unable to start).
        Assert.All(variables.Where(v => v.ValueFrom?.SecretKeyRef is not null), v => Assert.Contains(v.ValueFrom.SecretKeyRef.Key, Deployment.Secrets.Keys));
    }

    [Fact]
    public void AVariableBuiltFromOthersComesAfterThem()
    {
        // Kubernetes expands $(NAME) only from variables defined earlier in the same container; else it stays as text.
        var containers = Deployment.Containers;
        foreach (var container in containers)
        {
            for (var i = 0; i < container.Env.Count; i++)
            {
                var earlier = container.Env.Take(i).Select(e => e.Name).ToHashSet();
                foreach (Match reference in VariableReference().Matches(container.Env[i].Value ?? ""))
                {
                    Assert.True(earlier.Contains(reference.Groups[1].Value),
                        $"{container.Name}: {container.Env[i].Name} uses $({reference.Groups[1].Value}) before it is defined.");
                }
            }
        }
    }

    [Fact]
    public void EveryServiceAddressPointsAtAServicePortThatExists()
    {
        var ports = Deployment.OfKind<V1Service>().SelectMany(s => s.Spec.Ports.Select(p => $"{s.Metadata.Name}:{p.Port}")).ToHashSet();
        var addresses = Deployment.Workloads.Values.SelectMany(t => t.Spec.Containers).SelectMany(c => c.Env)
            .Where(e => e.Value is not null && (e.Name.StartsWith("services__", StringComparison.Ordinal) || e.Name.StartsWith("AIRFLOW_CONN_", StringComparison.Ordinal)))
            .Select(e => (e.Name, Address: new Uri(e.Value)))
            .ToArray();

        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.True(ports.Contains($"{a.Address.Host}:{a.Address.Port}"), $"{a.Name} = {a.Address}: no such Service port."));
    }

    [Fact]
    public async Task NoSecretValueIsWrittenInTheRepository()
    {
        // Every file git tracks: a password, secret, key or token assigned a value that looks generated (see
        // LooksLikeARealSecret) is a leak. Placeholders, references and the tests' throwaway words are not.
        var leaks = new List<string>();
        var tracked = await TrackedFilesAsync();
        foreach (var file in tracked.Where(f => !f.EndsWith(".png", StringComparison.Ordinal) && !f.EndsWith(".zip", StringComparison.Ordinal)))
        {
            var lines = File.ReadAllLines(Path.Combine(TestData.RepositoryRoot, file));
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (Match match in SecretAssignment().Matches(lines[i]))
                {
                    if (LooksLikeARealSecret(match.Groups["value"].Value))
                    {
                        leaks.Add($"{file}:{i + 1}: {match.Value}");
                    }
                }
            }
        }

        Assert.Empty(leaks);
        Assert.DoesNotContain("deploy/k8s/secrets.env", tracked);
    }

    /// <summary>12 or more characters of the kinds generators use, with letters and digits both: not a placeholder
    /// (REPLACE-ME), a reference ($(VAR), {param.value}), a word or a path.</summary>
    private static bool LooksLikeARealSecret(string value) =>
        value.Length >= 12 && value.Any(char.IsAsciiDigit) && value.Any(char.IsAsciiLetter)
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '-' or '_' or '.')
        && !value.StartsWith('/') && !value.Contains("REPLACE-ME", StringComparison.Ordinal);

    /// <summary>The files git tracks; outside a git checkout, every file but build output and ignored secrets.</summary>
    private static async Task<IReadOnlyList<string>> TrackedFilesAsync()
    {
        try
        {
            var git = await TestProcess.RunAsync("git", ["-C", TestData.RepositoryRoot, "ls-files"]);
            if (git.ExitCode == 0)
            {
                return git.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No git: walk the folder instead.
        }

        string[] skipped = ["artifacts", "bin", "obj", ".git", "node_modules"];
        return Directory.EnumerateFiles(TestData.RepositoryRoot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestData.RepositoryRoot, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(skipped.Contains) && Path.GetFileName(f) != "secrets.env")
            .ToArray();
    }

    [GeneratedRegex(@"\$\(([A-Za-z0-9_]+)\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"^services__\w+__https__0$")]
    private static partial Regex HttpsAddress();

    [GeneratedRegex(@"(PASSWORD|SECRET|ACCESS_KEY|JWT)(?!.*_FILE$)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?:Password|SecretKey|AccessKey)=(?<value>[^;]*)|postgres:(?<value>[^@]*)@")]
    private static partial Regex CredentialInValue();

    [GeneratedRegex(@"(?i)(password|passwd|secret|secretkey|accesskey|access_key|jwt|token)[\w\-]*[""']?\s*[=:]\s*[""']?(?<value>[^\s""';,)]+)")]
    private static partial Regex SecretAssignment();
}
