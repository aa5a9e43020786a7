extern alias trainer;

using System.Text;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using trainer::Diabetes.Trainer.Training;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Real models of the trainer's own pipeline, trained once per test run on the dataset's first encounters, and
/// published to an MLflow server as the trainer publishes them (a run with its model folder, a registered version).
/// </summary>
public static class TestModels
{
    private static readonly Lazy<(TrainedCandidate Trained, FeaturePipeline Features)[]> Models = new(Train);

    /// <summary>A logistic regression (version 1 in most tests).</summary>
    public static TrainedCandidate Logistic => Models.Value[0].Trained;

    /// <summary>A boosted tree model, which answers other probabilities than <see cref="Logistic"/>.</summary>
    public static TrainedCandidate FastTree => Models.Value[1].Trained;

    /// <summary>
    /// Logs a run with the model folder of <paramref name="model"/> (through the server, or under
    /// <paramref name="artifactRoot"/> when given: an s3:// root), registers it as a new version and, unless told
    /// otherwise, gives it Production. <paramref name="tamper"/> may change a file of the folder before upload.
    /// </summary>
    public static async Task<ModelVersion> PublishAsync(
        MlflowClient mlflow, TrainedCandidate model, bool promote = true, string? artifactRoot = null, Func<string, byte[], byte[]>? tamper = null)
    {
        var features = Models.Value.Single(m => m.Trained == model).Features;
        var experimentId = await mlflow.GetOrCreateExperimentAsync(ModelArtifacts.RegisteredModelName, CancellationToken.None);
        var run = await mlflow.StartRunAsync(experimentId, model.Candidate.Name, new Dictionary<string, string>(), null, CancellationToken.None);
        if (artifactRoot is not null)
        {
            run = run with { ArtifactUri = artifactRoot };
        }

        var lineage = new ModelLineage(["test"], [1], 8_000, 2_000, "digest");
        foreach (var file in ModelFolder.Build(run.RunId, model, features, lineage, DateTimeOffset.UtcNow))
        {
            var content = tamper is null ? file.Content : tamper(file.Path, file.Content);
            await mlflow.UploadArtifactAsync(run, file.Path, content, file.ContentType, CancellationToken.None);
        }

        await mlflow.LogAsync(run.RunId, metrics: new Dictionary<string, double> { ["val_roc_auc"] = model.Validation.RocAuc }, cancellationToken: CancellationToken.None);
        await mlflow.EndRunAsync(run.RunId, MlflowNames.Finished, CancellationToken.None);
        await mlflow.EnsureRegisteredModelAsync(ModelArtifacts.RegisteredModelName, "test", CancellationToken.None);
        var version = (await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest(
            ModelArtifacts.RegisteredModelName, $"{run.ArtifactUri}/{ModelArtifacts.FolderPath}", run.RunId), CancellationToken.None)).ModelVersion;
        return promote ? await mlflow.PromoteAsync(ModelArtifacts.RegisteredModelName, version.Version, CancellationToken.None) : version;
    }

    /// <summary>Bytes that are not a model: what a truncated upload leaves.</summary>
    public static byte[] Corrupt(string path, byte[] content) =>
        path.EndsWith(ModelArtifacts.ModelFile, StringComparison.Ordinal) ? Encoding.UTF8.GetBytes("not a zip") : content;

    private static (TrainedCandidate, FeaturePipeline)[] Train()
    {
        var rows = TestEncounters.All.Select(r => r.Input.Copy()).ToList();
        var trainer = new ModelTrainer(rows.Take(8_000).ToList(), rows.Skip(8_000).Take(2_000).ToList());
        return
        [
            (trainer.Train(Candidates.All.First(c => c.Algorithm.Contains("Logistic", StringComparison.Ordinal))), trainer.Features),
            (trainer.Train(Candidates.All.First(c => c.Algorithm == "FastTree")), trainer.Features),
        ];
    }
}
