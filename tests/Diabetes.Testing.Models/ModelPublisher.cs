using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Trainer.Training;

namespace Diabetes.Testing.Models;

/// <summary>Puts a trained model into an MLflow server the way the trainer does: a run with its model folder, a registered version.</summary>
public static class ModelPublisher
{
    /// <summary>
    /// Logs a run with the model folder of <paramref name="model"/> and its validation metrics (through the server, or
    /// under <paramref name="artifactRoot"/> when given: an s3:// root), registers it as a new version and, unless told
    /// otherwise, gives it Production. <paramref name="tamper"/> may change a file of the folder before upload (null: leave it out);
    /// <paramref name="addArtifacts"/> may log more into the run before it ends.
    /// </summary>
    public static async Task<ModelVersion> PublishAsync(
        MlflowClient mlflow, TrainedCandidate model, FeaturePipeline features, ModelLineage lineage, bool promote = true, string? artifactRoot = null,
        Func<string, byte[], byte[]?>? tamper = null, Func<RunInfo, Task>? addArtifacts = null)
    {
        var experimentId = await mlflow.GetOrCreateExperimentAsync(ModelArtifacts.RegisteredModelName, CancellationToken.None);
        var run = await mlflow.StartRunAsync(experimentId, model.Candidate.Name, new Dictionary<string, string>(), null, CancellationToken.None);
        if (artifactRoot is not null)
        {
            run = run with { ArtifactUri = artifactRoot };
        }

        foreach (var file in ModelFolder.Build(run.RunId, model, features, lineage, DateTimeOffset.UtcNow))
        {
            if ((tamper is null ? file.Content : tamper(file.Path, file.Content)) is { } content)
            {
                await mlflow.UploadArtifactAsync(run, file.Path, content, file.ContentType, CancellationToken.None);
            }
        }

        var metrics = ModelFolder.Metrics(model.Validation).ToDictionary(m => $"val_{m.Key}", m => m.Value);
        await mlflow.LogAsync(run.RunId, metrics: metrics, cancellationToken: CancellationToken.None);
        if (addArtifacts is not null)
        {
            await addArtifacts(run);
        }

        await mlflow.EndRunAsync(run.RunId, MlflowNames.Finished, CancellationToken.None);
        await mlflow.EnsureRegisteredModelAsync(ModelArtifacts.RegisteredModelName, "test", CancellationToken.None);
        var version = (await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest(
            ModelArtifacts.RegisteredModelName, $"{run.ArtifactUri}/{ModelArtifacts.FolderPath}", run.RunId), CancellationToken.None)).ModelVersion;
        return promote ? await mlflow.PromoteAsync(ModelArtifacts.RegisteredModelName, version.Version, CancellationToken.None) : version;
    }
}
