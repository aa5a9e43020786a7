using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;

namespace Diabetes.Trainer.Training;

/// <summary>A file of a run's artifacts (the model folder, the card, …): its path below the artifact root, bytes and content type.</summary>
public sealed record ArtifactFile(string Path, byte[] Content, string ContentType);

/// <summary>
/// The model folder MLflow keeps for every candidate (<c>model/</c> in the run): <c>MLmodel</c> (flavor <c>mlnet</c>,
/// signature of the request it serves), <c>model.zip</c> (featurization and learner), <c>input_example.json</c>
/// <c>metadata.json</c> (decision threshold, features, lineage) and <c>reference_profile.json</c> (what drift compares
/// requests with).
/// </summary>
public static class ModelFolder
{
    public const string Path = ModelArtifacts.FolderPath;
    public const string MlNetVersion = "5.0.1";

    /// <summary>How the decision threshold is chosen, as <c>metadata.json</c> and the model card say it.</summary>
    public const string ThresholdRule = "the probability with the best F1 on the validation set";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IReadOnlyList<ArtifactFile> Build(string runId, TrainedCandidate trained, FeaturePipeline features, ModelLineage lineage, DateTimeOffset created) =>
    [
        new($"{Path}/{ModelArtifacts.ModelFile}", trained.Model.ToZip(), "application/zip"),
        new($"{Path}/MLmodel", Encoding.UTF8.GetBytes(MlModel(runId, created)), "text/plain"),
        new($"{Path}/{ModelArtifacts.InputExampleFile}", Encoding.UTF8.GetBytes(InputExample()), "application/json"),
        new($"{Path}/{ModelArtifacts.MetadataFile}", Metadata(trained, features, lineage, created).ToJson(), "application/json"),
        new($"{Path}/{ReferenceProfile.FileName}", trained.Reference.ToJson(), "application/json"),
    ];

    /// <summary>The request a served model answers, in MLflow's column-spec form: the dataset's fields without ids and label.</summary>
    public static string InputSignature() => new JsonArray(EncounterSchema.FeatureColumns.Select(c => (JsonNode)new JsonObject
    {
        ["type"] = c.Kind == ColumnKind.Integer ? "long" : "string",
        ["name"] = c.SourceName,
        ["required"] = c.Kind == ColumnKind.Integer,
    }).ToArray()).ToJsonString();

    private static string MlModel(string runId, DateTimeOffset created)
    {
        const string outputs = "[{\"type\": \"boolean\", \"name\": \"readmitted_within_30_days\", \"required\": true}, {\"type\": \"double\", \"name\": \"probability\", \"required\": true}]";
        return $"""
            artifact_path: {Path}
            flavors:
              mlnet:
                model_file: {ModelArtifacts.ModelFile}
                mlnet_version: {MlNetVersion}
                input_type: Diabetes.Core.Modeling.ModelInput
                preprocessing: Diabetes.Core.Cleaning.EncounterCleaner
            model_uuid: {Guid.NewGuid():N}
            run_id: {runId}
            signature:
              inputs: '{InputSignature()}'
              outputs: '{outputs}'
              params: null
            utc_time_created: '{created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}'

            """;
    }

    /// <summary><c>input_example.json</c>: a typical encounter as a prediction request.</summary>
    public static string InputExample() => JsonSerializer.Serialize(TypicalEncounter.ToRequest(), Indented);

    private static ModelMetadata Metadata(TrainedCandidate trained, FeaturePipeline features, ModelLineage lineage, DateTimeOffset created) => new(
        ModelName: TrainingWorkflow.ModelName,
        Algorithm: trained.Candidate.Algorithm,
        Parameters: trained.Candidate.Parameters,
        Threshold: trained.Validation.Threshold,
        ThresholdRule: ThresholdRule,
        Label: "readmitted_within_30_days (readmitted = '<30')",
        Features: FeaturePipeline.InputColumns,
        CategoriesKept: features.KeptCategories,
        MinimumCategoryCount: FeaturePipeline.MinimumCategoryCount,
        Validation: Metrics(trained.Validation),
        Lineage: lineage,
        Created: created);

    /// <summary>The metrics as logged, under their MLflow names without the split prefix.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(BinaryMetrics metrics) => new Dictionary<string, double>
    {
        ["roc_auc"] = metrics.RocAuc,
        ["pr_auc"] = metrics.PrAuc,
        ["f1"] = metrics.F1,
        ["recall"] = metrics.Recall,
        ["precision"] = metrics.Precision,
        ["log_loss"] = metrics.LogLoss,
        ["brier"] = metrics.Brier,
        ["threshold"] = metrics.Threshold,
    };
}
