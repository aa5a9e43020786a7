namespace Diabetes.Core.Mlflow;

// The messages of MLflow's REST API 2.0, as the server writes them (snake_case on the wire). Lists the server
// leaves out when empty are nullable; the helpers answer them as empty.

public sealed record MlflowTag(string Key, string Value);

public sealed record Experiment(
    string ExperimentId, string Name, string? ArtifactLocation, string? LifecycleStage, long? CreationTime, long? LastUpdateTime,
    IReadOnlyList<MlflowTag>? Tags);

public sealed record RunInfo(
    string RunId, string? RunUuid, string ExperimentId, string? RunName, string? UserId, string Status, long StartTime, long? EndTime,
    string ArtifactUri, string? LifecycleStage);

public sealed record Metric(string Key, double Value, long Timestamp, long Step = 0);

public sealed record Param(string Key, string Value);

public sealed record RunData(IReadOnlyList<Metric>? Metrics, IReadOnlyList<Param>? Params, IReadOnlyList<MlflowTag>? Tags)
{
    public string? Tag(string key) => Tags?.FirstOrDefault(t => t.Key == key)?.Value;

    public string? ParamValue(string key) => Params?.FirstOrDefault(p => p.Key == key)?.Value;

    public double? MetricValue(string key) => Metrics?.FirstOrDefault(m => m.Key == key)?.Value;
}

public sealed record Dataset(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

public sealed record DatasetInput(IReadOnlyList<MlflowTag>? Tags, Dataset Dataset);

public sealed record RunInputs(IReadOnlyList<DatasetInput>? DatasetInputs);

public sealed record Run(RunInfo Info, RunData? Data, RunInputs? Inputs);

public sealed record RegisteredModelAlias(string Alias, string Version);

public sealed record ModelVersion(
    string Name, string Version, long CreationTimestamp, long LastUpdatedTimestamp, string CurrentStage, string? Description,
    string Source, string? RunId, string Status, IReadOnlyList<MlflowTag>? Tags, string? RunLink, IReadOnlyList<string>? Aliases)
{
    public string? Tag(string key) => Tags?.FirstOrDefault(t => t.Key == key)?.Value;

    /// <summary>What tells one registered version from another: a number is reused only if the model is registered anew.</summary>
    public string Identity => $"{Version}@{CreationTimestamp}";
}

public sealed record RegisteredModel(
    string Name, long CreationTimestamp, long LastUpdatedTimestamp, string? Description, IReadOnlyList<ModelVersion>? LatestVersions,
    IReadOnlyList<MlflowTag>? Tags, IReadOnlyList<RegisteredModelAlias>? Aliases);

public sealed record ArtifactFile(string Path, bool IsDir, long? FileSize);

// Requests and responses.
public sealed record CreateExperimentRequest(string Name, string? ArtifactLocation = null, IReadOnlyList<MlflowTag>? Tags = null);

public sealed record CreateExperimentResponse(string ExperimentId);

public sealed record ExperimentResponse(Experiment Experiment);

public sealed record SearchExperimentsResponse(IReadOnlyList<Experiment>? Experiments, string? NextPageToken);

public sealed record CreateRunRequest(string ExperimentId, string? RunName, long StartTime, IReadOnlyList<MlflowTag>? Tags);

public sealed record RunResponse(Run Run);

public sealed record UpdateRunRequest(string RunId, string Status, long? EndTime = null, string? RunName = null);

public sealed record UpdateRunResponse(RunInfo RunInfo);

public sealed record LogBatchRequest(string RunId, IReadOnlyList<Metric>? Metrics, IReadOnlyList<Param>? Params, IReadOnlyList<MlflowTag>? Tags);

public sealed record LogInputsRequest(string RunId, IReadOnlyList<DatasetInput> Datasets);

public sealed record MetricHistoryResponse(IReadOnlyList<Metric>? Metrics, string? NextPageToken);

public sealed record SearchRunsRequest(
    IReadOnlyList<string> ExperimentIds, string? Filter = null, int? MaxResults = null, IReadOnlyList<string>? OrderBy = null,
    string? PageToken = null);

public sealed record SearchRunsResponse(IReadOnlyList<Run>? Runs, string? NextPageToken);

public sealed record ListArtifactsResponse(string? RootUri, IReadOnlyList<ArtifactFile>? Files);

public sealed record ListProxiedArtifactsResponse(IReadOnlyList<ArtifactFile>? Files);

public sealed record CreateRegisteredModelRequest(string Name, string? Description = null, IReadOnlyList<MlflowTag>? Tags = null);

public sealed record RegisteredModelResponse(RegisteredModel RegisteredModel);

public sealed record SearchRegisteredModelsResponse(IReadOnlyList<RegisteredModel>? RegisteredModels, string? NextPageToken);

public sealed record CreateModelVersionRequest(
    string Name, string Source, string? RunId = null, string? Description = null, IReadOnlyList<MlflowTag>? Tags = null);

public sealed record ModelVersionResponse(ModelVersion ModelVersion);

public sealed record ModelVersionsResponse(IReadOnlyList<ModelVersion>? ModelVersions, string? NextPageToken = null);

public sealed record DownloadUriResponse(string ArtifactUri);

public sealed record GetLatestVersionsRequest(string Name, IReadOnlyList<string>? Stages);

public sealed record SetAliasRequest(string Name, string Alias, string Version);

public sealed record DeleteAliasRequest(string Name, string Alias);

public sealed record TransitionStageRequest(string Name, string Version, string Stage, bool ArchiveExistingVersions);

public sealed record SetModelVersionTagRequest(string Name, string Version, string Key, string Value);

/// <summary>Run statuses and model stages as MLflow spells them.</summary>
public static class MlflowNames
{
    public const string Running = "RUNNING";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string ParentRunIdTag = "mlflow.parentRunId";
    public const string RunNameTag = "mlflow.runName";
    public const string NoteTag = "mlflow.note.content";
    public const string DatasetContextTag = "mlflow.data.context";
    public const string StageNone = "None";
    public const string StageStaging = "Staging";
    public const string StageProduction = "Production";
    public const string StageArchived = "Archived";
}
