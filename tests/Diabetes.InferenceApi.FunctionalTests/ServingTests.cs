extern alias inference;

using System.Collections.Concurrent;
using System.Net;
using Diabetes.Core.Encounters;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using inference::Diabetes.InferenceApi.Serving;
using Microsoft.Extensions.DependencyInjection;
using inference::Diabetes.InferenceApi.Apis;
using Diabetes.Testing;
using Minio.DataModel.Args;
using Diabetes.Testing.Models;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>The API serves whatever MLflow marks as Production: loaded, checked, swapped, and kept when MLflow fails.</summary>
public class ServingTests
{
    [Fact]
    public async Task APredictionIsTheProbabilityOfTheSameModelZipLoadedDirectly()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree);
        await app.WaitForVersionAsync(version.Version);
        var (raw, input) = TestEncounters.All[17];
        var direct = ReadmissionModel.Load(TestModels.FastTree.Model.ToZip()).Predict([input])[0];

        // Act
        var prediction = await app.PredictOkAsync(TestEncounters.Request(raw));

        // Assert
        Assert.Equal(direct, prediction.Probability, 1e-6);
        Assert.Equal(TestModels.FastTree.Validation.Threshold, prediction.Threshold, 1e-12);
        Assert.Equal(prediction.Probability >= prediction.Threshold, prediction.ReadmittedWithin30Days);
        Assert.Equal(new ModelReference(ModelArtifacts.RegisteredModelName, "1", version.RunId, "FastTree"), prediction.Model);
    }

    [Fact]
    public async Task ABatchOfAThousandEqualsAThousandSinglePredictions()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var requests = TestEncounters.All.Skip(100).Take(PredictionLimits.MaxBatchSize).Select(e => (JsonNode)TestEncounters.Request(e.Raw)).ToArray();

        // Act
        using var batchResponse = await app.PredictAsync(new JsonArray(requests.Select(r => r.DeepClone()).ToArray()), "/api/predictions/batch");
        var batch = (await batchResponse.Content.ReadFromJsonAsync<PredictionResponse[]>())!;
        var singles = new List<PredictionResponse>();
        foreach (var request in requests)
        {
            singles.Add(await app.PredictOkAsync(request));
        }

        // Assert
        Assert.Equal(HttpStatusCode.OK, batchResponse.StatusCode);
        Assert.Equal(singles.Select(WithoutId), batch.Select(WithoutId));
        Assert.Equal(2 * requests.Length, batch.Concat(singles).Select(p => p.PredictionId).Distinct().Count());
        Assert.Contains(batch, p => p.ReadmittedWithin30Days);
        Assert.Contains(batch, p => !p.ReadmittedWithin30Days);
    }

    [Fact]
    public async Task APromotedVersionIsServedWithinARefreshWithNoFailedRequest()
    {
        // Arrange: version 1 serves while requests run without pause
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var version2 = await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree, promote: false);
        var request = TestEncounters.Request(TestEncounters.All[3].Raw);
        using var stop = new CancellationTokenSource();
        var seen = Enumerable.Range(0, 4).Select(_ => new ConcurrentQueue<(HttpStatusCode Status, string? Version)>()).ToArray();
        var loops = seen.Select(answers => Task.Run(async () =>
        {
            var client = app.CreateClient();
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.PostAsync("/api/predictions", JsonContent(request));
                answers.Enqueue((response.StatusCode, response.IsSuccessStatusCode
                    ? (await response.Content.ReadFromJsonAsync<PredictionResponse>())!.Model.Version
                    : null));
            }
        })).ToArray();
        // Until each loop has had an answer (a loop that broke down stops the wait; awaiting it says why).
        Task UntilEveryLoopHasAnswered(Func<(HttpStatusCode Status, string? Version), bool> answer, string what) =>
            Poll.UntilAsync(() => loops.Any(l => l.IsFaulted) || seen.All(answers => answers.Any(answer)), what);
        await UntilEveryLoopHasAnswered(_ => true, "every request loop to be answered");

        // Act: Production moves to version 2, with no restart and no change to the API
        await app.MlflowClient.PromoteAsync(ModelArtifacts.RegisteredModelName, version2.Version, CancellationToken.None);
        await app.WaitForVersionAsync(version2.Version);
        await UntilEveryLoopHasAnswered(a => a.Version != "1", "every request loop to be answered by another version than 1");
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        // Assert: noticed at the first look at the registry after the promotion (the look under way when it happened
        // may have read version 1), then served once loaded; every request answered, first by version 1, then by
        // version 2, never back
        var log = app.Mlflow.Requests();
        var promoted = Array.FindLastIndex(log, r => r.Method == "POST" && r.PathAndQuery.EndsWith("/registered-models/alias", StringComparison.Ordinal));
        var fetched = Array.FindIndex(log, r => r.PathAndQuery.Contains($"{version2.RunId}/artifacts/model/", StringComparison.Ordinal));
        var looksBeforeFetch = log.Where((r, i) => i > promoted && i < fetched && r.PathAndQuery.Contains(InferenceApp.RegistryLookPath, StringComparison.Ordinal)).Count();
        Assert.True(looksBeforeFetch <= 2, $"version 2 was fetched after {looksBeforeFetch} looks at the registry since the promotion");
        foreach (var answers in seen)
        {
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
            var versions = answers.Select(a => a.Version).ToArray();
            Assert.Equal("1", versions[0]);
            Assert.Equal("2", versions[^1]);
            Assert.DoesNotContain("1", versions.SkipWhile(v => v == "1"));
        }
    }

    [Fact]
    public async Task AVersionWithACorruptModelIsRefusedOnceAndTheOldOneKeepsServing()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);

        // Act: Production moves to a version whose model.zip is not a model
        var broken = await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree, tamper: TestModels.Corrupt);
        await app.WaitForModelAsync(model => LoadProblemVersion(model) == broken.Version, $"version {broken.Version} to be tried");
        var looksWhenRefused = app.RegistryLooks;
        await Poll.UntilAsync(() => app.RegistryLooks >= looksWhenRefused + 5, "five more looks at the registry");

        // Assert: still version 1, and the broken version was fetched once, not again at every refresh
        var prediction = await app.PredictOkAsync(TypicalEncounter.ToRequest());
        Assert.Equal("1", prediction.Model.Version);
        var model = await app.CreateClient().GetFromJsonAsync<JsonElement>("/api/model");
        Assert.Equal("1", model.GetProperty("version").GetString());
        Assert.Single(app.Mlflow.Requests($"{broken.RunId}/artifacts/model/model.zip"), r => r.Method == "GET");
    }

    [Fact]
    public async Task AVersionServesWithItsReferenceProfileOrWithoutOneWhenItHasNone()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        var state = app.Services.GetRequiredService<ServingState>();

        // Act: a version trained before reference profiles, then one with its profile
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic, tamper: TestModels.WithoutReferenceProfile)).Version);
        var without = state.Model!;
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree)).Version);
        var with = state.Model!;

        // Assert: the first serves and says why drift has no reference; the second carries the training split's inputs
        Assert.Null(without.Reference);
        Assert.Contains("reference_profile.json is not in the model folder", without.ReferenceProblem);
        Assert.Null(with.ReferenceProblem);
        Assert.Equal(MonitoredInput.All.Select(i => i.Input), with.Reference!.Inputs.Select(i => i.Input));
        Assert.Equal(TestModels.FastTree.Validation.Count, with.Reference.Score.Rows);
    }

    [Fact]
    public async Task AVersionWhoseModelFileIsMissingIsRefusedAndSaidSo()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);

        // Act: Production moves to a version whose folder lacks model.zip
        var broken = await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree, tamper: TestModels.WithoutModel);
        await app.WaitForModelAsync(model => LoadProblemVersion(model) == broken.Version, $"version {broken.Version} to be tried");

        // Assert: version 1 still serves; /api/model and /health say which version was refused and why
        var model = await app.CreateClient().GetFromJsonAsync<JsonElement>("/api/model");
        Assert.Equal("1", model.GetProperty("version").GetString());
        Assert.Equal(broken.Version, model.GetProperty("productionInRegistry").GetString());
        Assert.True(model.GetProperty("loadProblem").GetProperty("rejected").GetBoolean());
        Assert.Contains("model.zip is not in", model.GetProperty("loadProblem").GetProperty("reason").GetString());
        Assert.Equal("Degraded", await app.CreateClient().GetStringAsync("/health"));
    }

    [Fact]
    public async Task AStoreThatFailsDuringTheDownloadIsTriedAgainNotRefused()
    {
        // Arrange: MLflow answers the first download with the 500 it gives when its object store fails
        await using var app = await InferenceApp.StartAsync();
        app.Mlflow.FailingDownloads = 1;

        // Act
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic);
        await app.WaitForVersionAsync(version.Version);

        // Assert: served at a later refresh, the failed file fetched again
        Assert.Contains(app.Mlflow.Requests($"{version.RunId}/artifacts/model/"), r => r.Status == 500);
        Assert.Equal("Healthy", await app.CreateClient().GetStringAsync("/health"));
    }

    [Fact]
    public async Task WhenMlflowRefusesTheHostNothingIsServedAndHealthSaysWhy()
    {
        // Arrange: MLflow 3 whose --allowed-hosts names only the service, reached by its loopback address
        await using var app = await InferenceApp.StartAsync(mlflowAllowedHosts: ["mlflow", "mlflow:*"]);
        var client = app.CreateClient();
        await app.WaitForModelAsync(model => HasValue(model.GetProperty("mlflow"), "lastAnsweredAt") || HasValue(model.GetProperty("mlflow"), "unreachableSince"),
            "the first look at the registry");

        // Act
        using var health = await client.GetAsync("/health");
        using var prediction = await app.PredictAsync(TypicalEncounter.ToRequest());

        // Assert: not ready (it cannot serve), and the 503 says MLflow cannot be reached, a state that passes: try again
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, prediction.StatusCode);
        var problem = await prediction.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("MLflow has been unreachable since", problem.GetProperty("detail").GetString());
        Assert.Equal("mlflowUnreachable", problem.GetProperty("state").GetString());
        Assert.Equal(TimeSpan.FromSeconds(10), prediction.Headers.RetryAfter?.Delta);
        Assert.Contains(app.Mlflow.Requests("/registered-models/alias"), r => r.Status == 403);
    }

    [Fact]
    public async Task WhenMlflowIsDownTheLoadedModelServesAndHealthSaysDegraded()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var client = app.CreateClient();
        Assert.Equal("Healthy", await client.GetStringAsync("/health"));

        // Act
        app.Mlflow.Unavailable = true;
        await app.WaitForHealthAsync("Degraded");

        // Assert
        using var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("1", (await app.PredictOkAsync(TypicalEncounter.ToRequest())).Model.Version);
        var mlflow = (await client.GetFromJsonAsync<JsonElement>("/api/model")).GetProperty("mlflow");
        Assert.False(mlflow.GetProperty("reachable").GetBoolean());
        Assert.True(mlflow.GetProperty("unreachableSince").GetDateTimeOffset() <= DateTimeOffset.UtcNow);

        // MLflow back: healthy again
        app.Mlflow.Unavailable = false;
        await app.WaitForHealthAsync("Healthy");
    }

    [Fact]
    public async Task WithNoProductionModelPredictionsAre503UntilOneIsPromoted()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        var client = app.CreateClient();
        await app.WaitForModelAsync(model => HasValue(model.GetProperty("mlflow"), "lastAnsweredAt"), "the first answer of the registry");

        // Act
        using var before = await app.PredictAsync(TypicalEncounter.ToRequest());
        using var modelBefore = await client.GetAsync("/api/model");
        using var alive = await client.GetAsync("/alive");
        var healthBefore = await client.GetStringAsync("/health");
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic);
        await app.WaitForVersionAsync(version.Version);
        using var after = await app.PredictAsync(TypicalEncounter.ToRequest());

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Equal("application/problem+json", before.Content.Headers.ContentType!.MediaType);
        var problem = await before.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("No model in Production yet", problem.GetProperty("title").GetString());
        // A state that lasts until a version is promoted: no Retry-After.
        Assert.Equal("noProduction", problem.GetProperty("state").GetString());
        Assert.False(before.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, modelBefore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Degraded", healthBefore);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("Healthy", await client.GetStringAsync("/health"));
    }

    [Fact]
    public async Task AModelWhoseFolderIsInS3IsReadStraightFromTheBucket()
    {
        // Arrange: a run whose artifact root is in the S3 server, as with a tracking server that does not proxy artifacts
        await using var app = await InferenceApp.StartAsync();
        var bucket = $"mlflow-{Guid.NewGuid():N}"[..20];
        await TestServers.CreateMinioClient().MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket));

        // Act
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic, artifactRoot: $"s3://{bucket}/1/run/artifacts");
        await app.WaitForVersionAsync(version.Version);

        // Assert
        Assert.Equal("1", (await app.PredictOkAsync(TypicalEncounter.ToRequest())).Model.Version);
        Assert.Empty(app.Mlflow.Requests("mlflow-artifacts"));
    }

    [Fact]
    public async Task TheServedModelSaysWhichVersionItIsAndWhereItCameFrom()
    {
        await using var app = await InferenceApp.StartAsync();
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic);
        await app.WaitForVersionAsync(version.Version);

        var model = await app.CreateClient().GetFromJsonAsync<JsonElement>("/api/model");

        Assert.Equal(ModelArtifacts.RegisteredModelName, model.GetProperty("name").GetString());
        Assert.Equal("production", model.GetProperty("alias").GetString());
        Assert.Equal("Production", model.GetProperty("stage").GetString());
        Assert.Equal(version.RunId, model.GetProperty("runId").GetString());
        Assert.Equal("LbfgsLogisticRegression", model.GetProperty("algorithm").GetString());
        Assert.Equal(TestModels.Logistic.Validation.RocAuc, model.GetProperty("metrics").GetProperty("val_roc_auc").GetDouble(), 1e-12);
        Assert.Equal(8_000, model.GetProperty("trainRows").GetInt32());
        Assert.True(model.GetProperty("mlflow").GetProperty("reachable").GetBoolean());
    }

    /// <summary>The version <c>/api/model</c> says could not be put in service, if any.</summary>
    private static string? LoadProblemVersion(JsonElement model) =>
        HasValue(model, "loadProblem") ? model.GetProperty("loadProblem").GetProperty("version").GetString() : null;

    private static bool HasValue(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null;

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    /// <summary>The answer but its id, which every prediction has of its own.</summary>
    private static PredictionResponse WithoutId(PredictionResponse prediction) => prediction with { PredictionId = Guid.Empty };
}
