using Refit;

namespace Diabetes.Core.Mlflow;

/// <summary>
/// MLflow's REST API 2.0 (tracking, registry, proxied artifacts), which MLflow 2.x and 3.x servers both serve.
/// Errors arrive as <see cref="MlflowException"/> (see <see cref="MlflowClientExtensions"/>).
/// </summary>
public interface IMlflowApi
{
    [Get("/health")]
    Task<string> HealthAsync(CancellationToken cancellationToken);

    [Get("/version")]
    Task<string> VersionAsync(CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/experiments/search")]
    Task<SearchExperimentsResponse> SearchExperimentsAsync([AliasAs("max_results")] int maxResults, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/experiments/create")]
    Task<CreateExperimentResponse> CreateExperimentAsync([Body] CreateExperimentRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/experiments/get-by-name")]
    Task<ExperimentResponse> GetExperimentByNameAsync([AliasAs("experiment_name")] string name, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/experiments/get")]
    Task<ExperimentResponse> GetExperimentAsync([AliasAs("experiment_id")] string experimentId, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/create")]
    Task<RunResponse> CreateRunAsync([Body] CreateRunRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/update")]
    Task<UpdateRunResponse> UpdateRunAsync([Body] UpdateRunRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/runs/get")]
    Task<RunResponse> GetRunAsync([AliasAs("run_id")] string runId, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/search")]
    Task<SearchRunsResponse> SearchRunsAsync([Body] SearchRunsRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-batch")]
    Task LogBatchAsync([Body] LogBatchRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/runs/log-inputs")]
    Task LogInputsAsync([Body] LogInputsRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// One page of a metric's history. MLflow 3 answers no values at all when <paramref name="maxResults"/> is left out
    /// (only a page token), so it is required here; the server allows at most 25,000.
    /// </summary>
    [Get("/api/2.0/mlflow/metrics/get-history")]
    Task<MetricHistoryResponse> GetMetricHistoryAsync(
        [AliasAs("run_id")] string runId, [AliasAs("metric_key")] string metricKey, [AliasAs("max_results")] int maxResults,
        CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/artifacts/list")]
    Task<ListArtifactsResponse> ListArtifactsAsync([AliasAs("run_id")] string runId, string? path, CancellationToken cancellationToken);

    /// <summary>Uploads through the server to its artifact store; <paramref name="path"/> is relative to <c>--artifacts-destination</c>.</summary>
    [Put("/api/2.0/mlflow-artifacts/artifacts/{**path}")]
    Task UploadProxiedArtifactAsync(string path, [Body] HttpContent content, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow-artifacts/artifacts/{**path}")]
    Task<HttpResponseMessage> DownloadProxiedArtifactAsync(string path, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow-artifacts/artifacts")]
    Task<ListProxiedArtifactsResponse> ListProxiedArtifactsAsync(string path, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/create")]
    Task<RegisteredModelResponse> CreateRegisteredModelAsync([Body] CreateRegisteredModelRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/get")]
    Task<RegisteredModelResponse> GetRegisteredModelAsync(string name, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/search")]
    Task<SearchRegisteredModelsResponse> SearchRegisteredModelsAsync(
        string? filter, [AliasAs("max_results")] int? maxResults, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/get-latest-versions")]
    Task<ModelVersionsResponse> GetLatestVersionsAsync([Body] GetLatestVersionsRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/alias")]
    Task SetAliasAsync([Body] SetAliasRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/alias")]
    Task<ModelVersionResponse> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/registered-models/alias")]
    Task DeleteAliasAsync([Body] DeleteAliasRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/model-versions/create")]
    Task<ModelVersionResponse> CreateModelVersionAsync([Body] CreateModelVersionRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/get")]
    Task<ModelVersionResponse> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/search")]
    Task<ModelVersionsResponse> SearchModelVersionsAsync(
        string? filter, [AliasAs("max_results")] int? maxResults, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/get-download-uri")]
    Task<DownloadUriResponse> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/model-versions/transition-stage")]
    Task<ModelVersionResponse> TransitionStageAsync([Body] TransitionStageRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/model-versions/set-tag")]
    Task SetModelVersionTagAsync([Body] SetModelVersionTagRequest request, CancellationToken cancellationToken);
}
