using System.Text.Json;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Diabetes.InferenceApi.Apis;

namespace Diabetes.InferenceApi.Serving;

/// <summary>A version that cannot be served: its files are missing or corrupt, it fails its own example, or it lies where this service cannot read.</summary>
public sealed class ModelRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Fetches a version's model folder (through the MLflow server, or straight from S3 for <c>s3://</c> roots), loads it
/// and checks it before it may serve: the model must score its own <c>input_example.json</c>, read through the same
/// validation and cleaning as a request, to a probability; a model that cannot explain it serves without explanations.
/// </summary>
public sealed class ModelLoader(MlflowClient mlflow, EncounterReader reader, TimeProvider timeProvider)
{
    /// <exception cref="ModelRejectedException">The version itself is at fault; loading it again will not help.</exception>
    public async Task<ServedModel> LoadAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        string root;
        try
        {
            root = await mlflow.ResolveModelRootAsync(version, cancellationToken);
        }
        catch (MlflowResourceNotFoundException exception)
        {
            throw new ModelRejectedException($"The version's source cannot be resolved: {exception.ServerMessage}", exception);
        }

        if (mlflow.WhyUnreadable(root) is { } unreadable)
        {
            throw new ModelRejectedException(unreadable);
        }

        // The small files first: a version whose metadata cannot be fetched costs no model download at each refresh.
        var metadataJson = await DownloadAsync(root, ModelArtifacts.MetadataFile, cancellationToken);
        var exampleJson = await DownloadAsync(root, ModelArtifacts.InputExampleFile, cancellationToken);
        var zip = await DownloadAsync(root, ModelArtifacts.ModelFile, cancellationToken);
        var (reference, referenceProblem) = await LoadReferenceAsync(root, cancellationToken);
        var metrics = await mlflow.GetRunMetricsAsync(version, cancellationToken);

        ReadmissionModel model;
        ModelMetadata metadata;
        try
        {
            model = ReadmissionModel.Load(zip);
            metadata = ModelMetadata.Parse(metadataJson);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new ModelRejectedException($"{ModelArtifacts.ModelFile} or {ModelArtifacts.MetadataFile} cannot be read: {exception.Message}", exception);
        }

        if (metadata.Threshold is not (> 0 and < 1))
        {
            throw new ModelRejectedException($"The threshold {metadata.Threshold} of {ModelArtifacts.MetadataFile} is not a probability strictly between 0 and 1.");
        }

        var served = CreateServed(version, model, metadata, metrics, reference, referenceProblem);
        VerifyOnExample(served, exampleJson);
        return served;
    }

    /// <summary>
    /// A registered version's reference profile, read from its model folder (drift of a version not served now), or
    /// why it has none; null when no such version is registered.
    /// </summary>
    public async Task<(ReferenceProfile? Profile, string? Problem)?> LoadVersionReferenceAsync(string versionNumber, CancellationToken cancellationToken)
    {
        ModelVersion version;
        try
        {
            version = (await mlflow.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, versionNumber, cancellationToken)).ModelVersion;
        }
        catch (MlflowResourceNotFoundException)
        {
            return null;
        }

        return await LoadReferenceAsync(await mlflow.ResolveModelRootAsync(version, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The version's reference profile for drift, or why there is none: the model serves without it (versions trained
    /// before profiles have none), and drift answers "no reference".
    /// </summary>
    private async Task<(ReferenceProfile? Profile, string? Problem)> LoadReferenceAsync(string root, CancellationToken cancellationToken)
    {
        if (await mlflow.FindArtifactAsync(root, ReferenceProfile.FileName, cancellationToken) is not { } json)
        {
            return (null, $"{ReferenceProfile.FileName} is not in the model folder (a version trained before reference profiles)");
        }

        try
        {
            return (ReferenceProfile.Parse(json), null);
        }
        catch (JsonException exception)
        {
            return (null, $"{ReferenceProfile.FileName} cannot be read: {exception.Message}");
        }
    }

    private ServedModel CreateServed(
        ModelVersion version, ReadmissionModel model, ModelMetadata metadata, IReadOnlyDictionary<string, double> metrics,
        ReferenceProfile? reference, string? referenceProblem)
    {
        try
        {
            return new ServedModel(version, model, metadata, metrics, timeProvider.GetUtcNow())
            {
                Reference = reference,
                ReferenceProblem = referenceProblem,
            };
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The saved model does not fit what a request turns into (another input schema).
            throw new ModelRejectedException($"The model cannot score requests: {exception.Message}", exception);
        }
    }

    private void VerifyOnExample(ServedModel served, byte[] exampleJson)
    {
        var errors = new Dictionary<string, string[]>();
        ModelInput? input;
        try
        {
            using var example = JsonDocument.Parse(exampleJson);
            input = reader.Read(example.RootElement, "", errors);
        }
        catch (JsonException exception)
        {
            throw new ModelRejectedException($"{ModelArtifacts.InputExampleFile} is not JSON: {exception.Message}", exception);
        }

        if (input is null)
        {
            throw new ModelRejectedException(
                $"{ModelArtifacts.InputExampleFile} is not a valid request: {string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))}");
        }

        double probability;
        try
        {
            probability = served.Predict(input);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new ModelRejectedException($"The model fails on its own input example: {exception.Message}", exception);
        }

        if (!double.IsFinite(probability) || probability is < 0 or > 1)
        {
            throw new ModelRejectedException($"The model answers {probability} for its own input example, which is not a probability.");
        }

        // A model whose explanation fails still predicts: it serves, without explanations, rather than being refused.
        if (served.Explain(input) is { Failure: { } failure })
        {
            served.CannotExplain(new ExplanationProblem("explaining the model's own input example failed (logged)", failure));
        }
    }

    /// <summary>
    /// A file of the model folder. One that is not there is the version's fault; a store that fails is not, and is
    /// tried again (<see cref="MlflowClient.FindArtifactAsync"/> tells the two apart).
    /// </summary>
    private async Task<byte[]> DownloadAsync(string root, string file, CancellationToken cancellationToken) =>
        await mlflow.FindArtifactAsync(root, file, cancellationToken) ?? throw new ModelRejectedException($"{file} is not in {root}");
}
