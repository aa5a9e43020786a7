using System.Text.Json;

namespace Diabetes.Core.Modeling;

/// <summary>
/// The registered model and the files of its model folder in MLflow, as the trainer writes them and the inference API
/// reads them.
/// </summary>
public static class ModelArtifacts
{
    /// <summary>The registered model, and the experiment its training runs belong to.</summary>
    public const string RegisteredModelName = "diabetes-readmission";

    /// <summary>The model folder, below a run's artifact root.</summary>
    public const string FolderPath = "model";

    public const string ModelFile = "model.zip";
    public const string MetadataFile = "metadata.json";
    public const string InputExampleFile = "input_example.json";

    /// <summary>The model card of a registered version: Markdown at the root of its run's artifacts, beside <c>slices.json</c>.</summary>
    public const string ModelCardFile = "model_card.md";

    /// <summary>How the JSON files the trainer writes into MLflow are written and read: snake_case, indented.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };
}

/// <summary>The tags promotion writes on a version it decided about: the decision, its reason and when.</summary>
public static class PromotionTags
{
    public const string Decision = "promotion_decision";
    public const string Reason = "promotion_reason";
    public const string At = "promotion_at";
    public const string Promoted = "promoted";
    public const string Rejected = "rejected";
}

/// <summary><c>metadata.json</c> of a model folder: the decision threshold, what the model reads, where its data came from.</summary>
public sealed record ModelMetadata(
    string ModelName,
    string Algorithm,
    IReadOnlyDictionary<string, string> Parameters,
    double Threshold,
    string ThresholdRule,
    string Label,
    IReadOnlyList<string> Features,
    IReadOnlyDictionary<string, IReadOnlyList<string>> CategoriesKept,
    int MinimumCategoryCount,
    IReadOnlyDictionary<string, double> Validation,
    ModelLineage Lineage,
    DateTimeOffset Created)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelArtifacts.JsonOptions);

    public static ModelMetadata Parse(byte[] json) =>
        JsonSerializer.Deserialize<ModelMetadata>(json, ModelArtifacts.JsonOptions) ?? throw new JsonException($"{ModelArtifacts.MetadataFile} is empty.");
}

/// <summary>Where a model's training data came from.</summary>
public sealed record ModelLineage(
    IReadOnlyList<string> SourceSha256, IReadOnlyList<int> Batches, int TrainRows, int ValidationRows, string TrainDigest,
    string Table = "cleandata.clean_encounters");
