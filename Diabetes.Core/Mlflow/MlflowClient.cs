using Microsoft.Extensions.DependencyInjection;
using Minio;
using Minio.DataModel.Args;

namespace Diabetes.Core.Mlflow;

/// <summary>
/// The operations the platform composes from MLflow's REST calls: experiments by name, runs with their batches of
/// values, artifacts wherever the server keeps them, and the registry's Production slot (alias and stage).
/// </summary>
public sealed class MlflowClient(IMlflowApi api, IServiceProvider services, TimeProvider timeProvider)
{
    public const string ProductionAlias = "production";
    private const string ProxiedScheme = "mlflow-artifacts:";
    private const string S3Scheme = "s3://";

    // The server's limits for one log-batch call: 1,000 metrics, 100 params, 100 tags, and 1,000 values in all.
    private const int MaxParamsPerBatch = 100;
    private const int MaxTagsPerBatch = 100;
    private const int MaxMetricsPerBatch = 1000 - MaxParamsPerBatch - MaxTagsPerBatch;

    public IMlflowApi Api { get; } = api;

    private long Now => timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The id of the experiment of that name, or null when there is none.</summary>
    public async Task<string?> FindExperimentIdAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await Api.GetExperimentByNameAsync(name, cancellationToken)).Experiment.ExperimentId;
        }
        catch (MlflowResourceNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Every run of the experiment of that name that <paramref name="filter"/> selects, all pages; none when there is no such experiment.</summary>
    public async Task<IReadOnlyList<Run>> SearchRunsAsync(string experimentName, string filter, CancellationToken cancellationToken)
    {
        if (await FindExperimentIdAsync(experimentName, cancellationToken) is not { } experimentId)
        {
            return [];
        }

        var runs = new List<Run>();
        string? page = null;
        do
        {
            var found = await Api.SearchRunsAsync(new SearchRunsRequest([experimentId], filter, MaxResults: 1000, PageToken: page), cancellationToken);
            runs.AddRange(found.Runs ?? []);
            page = found.NextPageToken;
        }
        while (!string.IsNullOrEmpty(page));

        return runs;
    }

    public async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken)
    {
        if (await FindExperimentIdAsync(name, cancellationToken) is { } existing)
        {
            return existing;
        }

        try
        {
            return (await Api.CreateExperimentAsync(new CreateExperimentRequest(name), cancellationToken)).ExperimentId;
        }
        catch (MlflowResourceAlreadyExistsException)
        {
            // Created by someone else in between.
            return (await Api.GetExperimentByNameAsync(name, cancellationToken)).Experiment.ExperimentId;
        }
    }

    public async Task<RunInfo> StartRunAsync(
        string experimentId, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId, CancellationToken cancellationToken)
    {
        var allTags = tags.Select(t => new MlflowTag(t.Key, t.Value)).ToList();
        if (parentRunId is not null)
        {
            allTags.Add(new MlflowTag(MlflowNames.ParentRunIdTag, parentRunId));
        }

        return (await Api.CreateRunAsync(new CreateRunRequest(experimentId, runName, Now, allTags), cancellationToken)).Run.Info;
    }

    /// <summary>Logs values in as many log-batch calls as the server's limits require.</summary>
    public async Task LogAsync(
        string runId,
        IReadOnlyDictionary<string, double>? metrics = null,
        IReadOnlyDictionary<string, string>? parameters = null,
        IReadOnlyDictionary<string, string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var now = Now;
        var metricList = (metrics ?? new Dictionary<string, double>()).Select(m => new Metric(m.Key, m.Value, now)).ToArray();
        var paramList = (parameters ?? new Dictionary<string, string>()).Select(p => new Param(p.Key, p.Value)).ToArray();
        var tagList = (tags ?? new Dictionary<string, string>()).Select(t => new MlflowTag(t.Key, t.Value)).ToArray();
        var calls = Math.Max(1, new[]
        {
            Chunks(metricList.Length, MaxMetricsPerBatch), Chunks(paramList.Length, MaxParamsPerBatch), Chunks(tagList.Length, MaxTagsPerBatch),
        }.Max());
        for (var call = 0; call < calls; call++)
        {
            await Api.LogBatchAsync(new LogBatchRequest(runId,
                metricList.Skip(call * MaxMetricsPerBatch).Take(MaxMetricsPerBatch).ToArray(),
                paramList.Skip(call * MaxParamsPerBatch).Take(MaxParamsPerBatch).ToArray(),
                tagList.Skip(call * MaxTagsPerBatch).Take(MaxTagsPerBatch).ToArray()), cancellationToken);
        }
    }

    public Task LogDatasetAsync(string runId, Dataset dataset, string context, CancellationToken cancellationToken) =>
        Api.LogInputsAsync(new LogInputsRequest(runId,
            [new DatasetInput([new MlflowTag(MlflowNames.DatasetContextTag, context)], dataset)]), cancellationToken);

    public async Task<RunInfo> EndRunAsync(string runId, string status, CancellationToken cancellationToken) =>
        (await Api.UpdateRunAsync(new UpdateRunRequest(runId, status, Now), cancellationToken)).RunInfo;

    /// <summary>Stores a file under the run's artifact root, through the server or straight into S3.</summary>
    public async Task UploadArtifactAsync(RunInfo run, string path, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        var location = ArtifactLocation.Parse(run.ArtifactUri, path);
        if (location.S3Bucket is not null)
        {
            using var stream = new MemoryStream(content);
            await RequireMinio(run.ArtifactUri).PutObjectAsync(new PutObjectArgs()
                .WithBucket(location.S3Bucket).WithObject(location.Path).WithStreamData(stream)
                .WithObjectSize(content.Length).WithContentType(contentType), cancellationToken);
            return;
        }

        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        await Api.UploadProxiedArtifactAsync(location.Path, body, cancellationToken);
    }

    /// <summary>Why files below an artifact root cannot be read by this client (null: they can be).</summary>
    public string? WhyUnreadable(string artifactRoot)
    {
        try
        {
            return ArtifactLocation.Parse(artifactRoot, "").S3Bucket is not null && services.GetService<IMinioClient>() is null
                ? $"The artifact root {artifactRoot} is in S3, and no object store is configured (ConnectionStrings__minio)."
                : null;
        }
        catch (NotSupportedException exception)
        {
            return exception.Message;
        }
    }

    /// <summary>
    /// Whether a file is below an artifact root, as the store answers. MLflow answers a missing artifact with the same
    /// 500 as a store it cannot reach; this tells the two apart: it throws when the store does not answer.
    /// </summary>
    private async Task<bool> ArtifactExistsAsync(string artifactRoot, string path, CancellationToken cancellationToken)
    {
        var location = ArtifactLocation.Parse(artifactRoot, path);
        var slash = location.Path.LastIndexOf('/');
        var (folder, name) = slash < 0 ? ("", location.Path) : (location.Path[..slash], location.Path[(slash + 1)..]);
        if (location.S3Bucket is null)
        {
            var listing = await Api.ListProxiedArtifactsAsync(folder, cancellationToken);
            return listing.Files?.Any(f => !f.IsDir && f.Path == name) == true;
        }

        try
        {
            await RequireMinio(artifactRoot).StatObjectAsync(
                new StatObjectArgs().WithBucket(location.S3Bucket).WithObject(location.Path), cancellationToken);
            return true;
        }
        catch (Minio.Exceptions.ObjectNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The latest value of each metric of a version's run; none when it has no run, or the run is gone.</summary>
    public async Task<IReadOnlyDictionary<string, double>> GetRunMetricsAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        if (version.RunId is null)
        {
            return new Dictionary<string, double>();
        }

        try
        {
            return (await Api.GetRunAsync(version.RunId, cancellationToken)).Run.Data?.Metrics?.ToDictionary(m => m.Key, m => m.Value)
                ?? new Dictionary<string, double>();
        }
        catch (MlflowResourceNotFoundException)
        {
            return new Dictionary<string, double>();
        }
    }

    /// <summary>Reads a file below an artifact root (a run's, or a model version's source).</summary>
    public async Task<byte[]> DownloadArtifactAsync(string artifactRoot, string path, CancellationToken cancellationToken)
    {
        var location = ArtifactLocation.Parse(artifactRoot, path);
        if (location.S3Bucket is not null)
        {
            using var stream = new MemoryStream();
            await RequireMinio(artifactRoot).GetObjectAsync(new GetObjectArgs()
                .WithBucket(location.S3Bucket).WithObject(location.Path).WithCallbackStream(s => s.CopyTo(stream)), cancellationToken);
            return stream.ToArray();
        }

        // A raw response is handed back as it is, error or not.
        using var response = await Api.DownloadProxiedArtifactAsync(location.Path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await MlflowException.FromResponseAsync(response);
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>
    /// A file below an artifact root, or null when the store says it is not there. S3 says so itself; MLflow answers a
    /// missing file with the same 500 as a store it cannot reach: the listing tells the two apart, and a store that
    /// fails is thrown.
    /// </summary>
    public async Task<byte[]?> FindArtifactAsync(string artifactRoot, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await DownloadArtifactAsync(artifactRoot, path, cancellationToken);
        }
        catch (Minio.Exceptions.ObjectNotFoundException)
        {
            return null;
        }
        catch (Exception exception) when (exception is MlflowException or Minio.Exceptions.MinioException)
        {
            if (!await ArtifactExistsAsync(artifactRoot, path, cancellationToken))
            {
                return null;
            }

            throw;
        }
    }

    public async Task EnsureRegisteredModelAsync(string name, string description, CancellationToken cancellationToken)
    {
        try
        {
            await Api.GetRegisteredModelAsync(name, cancellationToken);
        }
        catch (MlflowResourceNotFoundException)
        {
            try
            {
                await Api.CreateRegisteredModelAsync(new CreateRegisteredModelRequest(name, description), cancellationToken);
            }
            catch (MlflowResourceAlreadyExistsException)
            {
                // Registered by someone else in between.
            }
        }
    }

    /// <summary>The version holding Production: alias <c>production</c>, else the newest version in stage Production.</summary>
    public async Task<ModelVersion?> GetProductionVersionAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await Api.GetModelVersionByAliasAsync(name, ProductionAlias, cancellationToken)).ModelVersion;
        }
        catch (Exception exception) when (exception is MlflowInvalidParameterException or MlflowResourceNotFoundException)
        {
            // A missing alias (or model) is 400 INVALID_PARAMETER_VALUE on the servers checked; newer ones may say 404.
        }

        try
        {
            var versions = (await Api.GetLatestVersionsAsync(new GetLatestVersionsRequest(name, [MlflowNames.StageProduction]), cancellationToken))
                .ModelVersions ?? [];
            return versions.MaxBy(v => long.Parse(v.Version, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (MlflowResourceNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The newest version of a registered model, or null when it has none (or does not exist).</summary>
    public async Task<ModelVersion?> GetNewestVersionAsync(string name, CancellationToken cancellationToken)
    {
        var versions = (await Api.SearchModelVersionsAsync($"name='{name.Replace("'", "\\'")}'", null, cancellationToken)).ModelVersions ?? [];
        return versions.MaxBy(v => long.Parse(v.Version, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Gives a version Production both ways: alias <c>production</c>, and stage Production with the others archived.</summary>
    public async Task<ModelVersion> PromoteAsync(string name, string version, CancellationToken cancellationToken)
    {
        await Api.SetAliasAsync(new SetAliasRequest(name, ProductionAlias, version), cancellationToken);
        return (await Api.TransitionStageAsync(
            new TransitionStageRequest(name, version, MlflowNames.StageProduction, ArchiveExistingVersions: true), cancellationToken)).ModelVersion;
    }

    /// <summary>The artifact root of a version's model folder; a <c>runs:/&lt;id&gt;/path</c> source is resolved through its run.</summary>
    public async Task<string> ResolveModelRootAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        var uri = (await Api.GetModelVersionDownloadUriAsync(version.Name, version.Version, cancellationToken)).ArtifactUri;
        if (!uri.StartsWith("runs:/", StringComparison.Ordinal))
        {
            return uri;
        }

        var rest = uri["runs:/".Length..];
        var slash = rest.IndexOf('/');
        var runId = slash < 0 ? rest : rest[..slash];
        var run = (await Api.GetRunAsync(runId, cancellationToken)).Run.Info;
        return slash < 0 ? run.ArtifactUri : $"{run.ArtifactUri.TrimEnd('/')}/{rest[(slash + 1)..]}";
    }

    private IMinioClient RequireMinio(string artifactUri) =>
        services.GetService<IMinioClient>()
            ?? throw new ObjectStoreNotConfiguredException(
                $"The artifact root {artifactUri} is in S3, and no object store is configured (ConnectionStrings__minio).");

    private static int Chunks(int count, int size) => (count + size - 1) / size;

    /// <summary>Where a file below an artifact root lives: a path of the server's proxied store, or an S3 bucket and key.</summary>
    internal readonly record struct ArtifactLocation(string? S3Bucket, string Path)
    {
        public static ArtifactLocation Parse(string artifactRoot, string relativePath)
        {
            var relative = relativePath.Trim('/');
            string Join(string root) => relative.Length == 0 ? root.TrimEnd('/') : $"{root.TrimEnd('/')}/{relative}";

            if (artifactRoot.StartsWith(ProxiedScheme, StringComparison.Ordinal))
            {
                // mlflow-artifacts:/1/<run>/artifacts, or mlflow-artifacts://host:port/1/<run>/artifacts
                var rest = artifactRoot[ProxiedScheme.Length..];
                if (rest.StartsWith("//", StringComparison.Ordinal))
                {
                    var hostEnd = rest.IndexOf('/', 2);
                    rest = hostEnd < 0 ? "" : rest[hostEnd..];
                }

                return new ArtifactLocation(null, Join(rest.TrimStart('/')));
            }

            if (artifactRoot.StartsWith(S3Scheme, StringComparison.Ordinal))
            {
                var rest = artifactRoot[S3Scheme.Length..];
                var slash = rest.IndexOf('/');
                return slash < 0 ? new ArtifactLocation(rest, relative) : new ArtifactLocation(rest[..slash], Join(rest[(slash + 1)..]));
            }

            throw new NotSupportedException(
                $"Artifact root '{artifactRoot}': only {ProxiedScheme} (served by the MLflow server) and {S3Scheme} roots are supported.");
        }
    }
}
