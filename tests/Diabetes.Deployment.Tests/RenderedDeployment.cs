using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Diabetes.Testing;
using k8s;
using k8s.Models;

namespace Diabetes.Deployment.Tests;

/// <summary>
/// <c>deploy/k8s</c> as <c>kubectl kustomize</c> renders it (Debian's <c>kubernetes-client</c>), with a
/// <c>secrets.env</c> of fresh random values (the file a user writes from <c>secrets.env.example</c>), every object
/// read as its typed Kubernetes kind by the KubernetesClient YAML loader, in strict mode (an unknown field fails).
/// </summary>
public sealed class RenderedDeployment
{
    public static string Folder { get; } = Path.Combine(TestData.RepositoryRoot, "deploy", "k8s");

    private RenderedDeployment(string yaml, IReadOnlyList<object> objects, IReadOnlyDictionary<string, string> secrets)
    {
        Yaml = yaml;
        Objects = objects;
        Secrets = secrets;
    }

    public string Yaml { get; }

    public IReadOnlyList<object> Objects { get; }

    /// <summary>The values written to secrets.env for this rendering, by key.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; }

    public static JsonObject Manifest { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "aspire-manifest.json")))!["resources"]!.AsObject();

    /// <summary>Renders a copy of <c>deploy/{tree}</c> (<c>k8s</c>, or the overlay <c>k8s-ingress</c>).</summary>
    public static async Task<RenderedDeployment> RenderAsync(string tree = "k8s")
    {
        // deploy/ and the folder the tree includes (airflow/, which generates the DAGs' ConfigMap), at the same places.
        var root = Directory.CreateTempSubdirectory("diabetes-k8s-");
        try
        {
            CopyTree(Path.Combine(TestData.RepositoryRoot, "deploy"), Path.Combine(root.FullName, "deploy"));
            CopyTree(Path.Combine(TestData.RepositoryRoot, "airflow"), Path.Combine(root.FullName, "airflow"));
            var keys = File.ReadAllLines(Path.Combine(Folder, "secrets.env.example"))
                .Where(line => line.Contains('=') && !line.StartsWith('#'))
                .Select(line => line[..line.IndexOf('=')]);
            var secrets = keys.ToDictionary(key => key, _ => RandomNumberGenerator.GetHexString(32, lowercase: true));
            await File.WriteAllLinesAsync(Path.Combine(root.FullName, "deploy", "k8s", "secrets.env"), secrets.Select(s => $"{s.Key}={s.Value}"));

            var yaml = await KustomizeAsync(Path.Combine(root.FullName, "deploy", tree));
            return new RenderedDeployment(yaml, KubernetesYaml.LoadAllFromString(yaml, strict: true), secrets);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    public IEnumerable<T> OfKind<T>() => Objects.OfType<T>();

    public T Named<T>(string name) where T : IMetadata<V1ObjectMeta> =>
        OfKind<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"No {typeof(T).Name} named {name} in deploy/k8s.");

    /// <summary>Deployments and StatefulSets, by name, with their pod templates.</summary>
    public IReadOnlyDictionary<string, V1PodTemplateSpec> Workloads =>
        OfKind<V1Deployment>().Select(d => (d.Metadata.Name, d.Spec.Template))
            .Concat(OfKind<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template)))
            .ToDictionary(w => w.Item1, w => w.Item2);

    /// <summary>Every container of every workload and Job.</summary>
    public IEnumerable<V1Container> Containers =>
        Workloads.Values.Concat(OfKind<V1Job>().Select(j => j.Spec.Template)).SelectMany(t => t.Spec.Containers);

    private static async Task<string> KustomizeAsync(string folder)
    {
        ProcessResult kustomize;
        try
        {
            kustomize = await TestProcess.RunAsync("kubectl", ["kustomize", folder]);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new Xunit.Sdk.XunitException("kubectl is not installed: apt-get install kubernetes-client (.ci/run installs it).");
        }

        Assert.True(kustomize.ExitCode == 0, $"kubectl kustomize failed: {kustomize.Errors}");
        return kustomize.Output;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "secrets.env" && !f.Contains("__pycache__", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
