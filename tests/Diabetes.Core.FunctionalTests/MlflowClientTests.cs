using System.Net;
using System.Text;
using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Minio.DataModel.Args;

namespace Diabetes.Core.FunctionalTests;

/// <summary>The MLflow client against the double of the server as MLflow 2.17 (gunicorn).</summary>
public sealed class MlflowClientOnMlflow2Tests() : MlflowClientTests(MlflowServerDouble.Mlflow2);

/// <summary>The MLflow client against the double of the server as MLflow 3 (uvicorn), what the platform's image runs.</summary>
public sealed class MlflowClientOnMlflow3Tests() : MlflowClientTests(MlflowServerDouble.Mlflow3);

/// <summary>The MLflow client against the double of the server, call by call as in the transcript, for each major.</summary>
public abstract class MlflowClientTests(string serverVersion)
{
    private Task<MlflowFixture> StartAsync() => MlflowFixture.StartAsync(serverVersion);

    private static async Task<RunInfo> NewRunAsync(MlflowFixture mlflow, string experiment = "client-check")
    {
        var experimentId = await mlflow.Client.GetOrCreateExperimentAsync(experiment, CancellationToken.None);
        return await mlflow.Client.StartRunAsync(experimentId, "run-1", new Dictionary<string, string> { ["mlflow.user"] = "csharp" }, null, CancellationToken.None);
    }

    [Fact]
    public async Task AnswersHealthAndVersion()
    {
        await using var mlflow = await StartAsync();

        Assert.Equal("OK", await mlflow.Api.HealthAsync(CancellationToken.None));
        Assert.Equal(serverVersion, await mlflow.Api.VersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task CreatesAnExperimentOnceAndFindsItByNameAndId()
    {
        await using var mlflow = await StartAsync();

        var first = await mlflow.Client.GetOrCreateExperimentAsync("diabetes-readmission", CancellationToken.None);
        var second = await mlflow.Client.GetOrCreateExperimentAsync("diabetes-readmission", CancellationToken.None);
        var byId = (await mlflow.Api.GetExperimentAsync(first, CancellationToken.None)).Experiment;

        Assert.Equal("1", first);
        Assert.Equal(first, second);
        Assert.Equal("diabetes-readmission", byId.Name);
        Assert.Equal("mlflow-artifacts:/1", byId.ArtifactLocation);
        Assert.Single(mlflow.Requests("/experiments/create"));
    }

    [Fact]
    public async Task MapsExperimentErrorsToTypedExceptions()
    {
        await using var mlflow = await StartAsync();
        await mlflow.Api.CreateExperimentAsync(new CreateExperimentRequest("twice"), CancellationToken.None);

        var duplicate = await Assert.ThrowsAsync<MlflowResourceAlreadyExistsException>(() =>
            mlflow.Api.CreateExperimentAsync(new CreateExperimentRequest("twice"), CancellationToken.None));
        var missing = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() =>
            mlflow.Api.GetExperimentByNameAsync("no-such-experiment", CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Equal(MlflowException.ResourceAlreadyExists, duplicate.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Could not find experiment with name 'no-such-experiment'", missing.ServerMessage);
    }

    [Fact]
    public async Task LogsARunWithStepsParamsTagsAndADatasetAndReadsItBack()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);

        // Act
        await mlflow.Api.LogBatchAsync(new LogBatchRequest(run.RunId,
            [new Metric("accuracy", 0.91, 1000, 0), new Metric("accuracy", 0.94, 2000, 1), new Metric("loss", 0.25, 1000)],
            [new Param("learning_rate", "0.01")], [new MlflowTag("framework", "ml.net")]), CancellationToken.None);
        await mlflow.Client.LogDatasetAsync(run.RunId,
            new Dataset("clean-train", "abc123", "postgres", "{\"table\": \"clean_encounters\"}", null, "{\"num_rows\": 150}"), "training", CancellationToken.None);
        var ended = await mlflow.Client.EndRunAsync(run.RunId, MlflowNames.Finished, CancellationToken.None);
        var read = (await mlflow.Api.GetRunAsync(run.RunId, CancellationToken.None)).Run;
        var history = await mlflow.Api.GetMetricHistoryAsync(run.RunId, "accuracy", 100, CancellationToken.None);
        var noHistory = await mlflow.Api.GetMetricHistoryAsync(run.RunId, "never_logged", 100, CancellationToken.None);

        // Assert
        Assert.Equal(MlflowNames.Running, run.Status);
        Assert.Equal($"mlflow-artifacts:/1/{run.RunId}/artifacts", run.ArtifactUri);
        Assert.Equal(MlflowNames.Finished, ended.Status);
        Assert.NotNull(ended.EndTime);
        Assert.Equal(0.94, read.Data!.MetricValue("accuracy"));
        Assert.Equal("0.01", read.Data.ParamValue("learning_rate"));
        Assert.Equal("ml.net", read.Data.Tag("framework"));
        Assert.Equal("run-1", read.Data.Tag(MlflowNames.RunNameTag));
        var input = Assert.Single(read.Inputs!.DatasetInputs!);
        Assert.Equal("abc123", input.Dataset.Digest);
        Assert.Equal("training", input.Tags!.Single().Value);
        Assert.Equal([0.91, 0.94], history.Metrics!.Select(m => m.Value));
        Assert.Null(history.NextPageToken);
        Assert.Null(noHistory.Metrics);
    }

    [Fact]
    public async Task SplitsLargeLogsIntoBatchesTheServerAccepts()
    {
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);

        await mlflow.Client.LogAsync(run.RunId,
            parameters: Enumerable.Range(0, 250).ToDictionary(i => $"p{i}", i => i.ToString()),
            metrics: Enumerable.Range(0, 10).ToDictionary(i => $"m{i}", i => (double)i),
            cancellationToken: CancellationToken.None);

        Assert.Equal(3, mlflow.Requests("/runs/log-batch").Length);
        Assert.Equal(250, (await mlflow.Api.GetRunAsync(run.RunId, CancellationToken.None)).Run.Data!.Params!.Count);

        // 1,000 metrics with params and tags exceed one request's 1,000 values: the client splits them
        await mlflow.Client.LogAsync(run.RunId,
            metrics: Enumerable.Range(0, 1000).ToDictionary(i => $"n{i}", i => (double)i),
            parameters: Enumerable.Range(0, 100).ToDictionary(i => $"q{i}", i => i.ToString()),
            tags: Enumerable.Range(0, 100).ToDictionary(i => $"t{i}", i => i.ToString()),
            cancellationToken: CancellationToken.None);
        Assert.All(mlflow.Requests("/runs/log-batch"), r => Assert.Equal(200, r.Status));
        Assert.Equal(1010, (await mlflow.Api.GetRunAsync(run.RunId, CancellationToken.None)).Run.Data!.Metrics!.Count);
        var tooMany = await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => mlflow.Api.LogBatchAsync(new LogBatchRequest(run.RunId,
            Enumerable.Range(0, 901).Select(i => new Metric($"x{i}", i, 0)).ToArray(), Enumerable.Range(0, 100).Select(i => new Param($"y{i}", "v")).ToArray(), null),
            CancellationToken.None));
        Assert.Contains("at most 1000", tooMany.ServerMessage);
    }

    [Fact]
    public async Task FindsChildRunsByTheParentTagAndRunsByMetric()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var parent = await NewRunAsync(mlflow);
        var experimentId = parent.ExperimentId;
        var children = new List<RunInfo>();
        foreach (var auc in new[] { 0.6, 0.7, 0.8 })
        {
            var child = await mlflow.Client.StartRunAsync(experimentId, $"child-{auc}", new Dictionary<string, string>(), parent.RunId, CancellationToken.None);
            await mlflow.Client.LogAsync(child.RunId, metrics: new Dictionary<string, double> { ["val_roc_auc"] = auc }, cancellationToken: CancellationToken.None);
            children.Add(child);
        }

        // Act
        var byParent = await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([experimentId],
            $"tags.`{MlflowNames.ParentRunIdTag}` = '{parent.RunId}'", OrderBy: ["metrics.val_roc_auc DESC"]), CancellationToken.None);
        var good = await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([experimentId], "metrics.val_roc_auc > 0.65", 10), CancellationToken.None);
        var none = await mlflow.Api.SearchRunsAsync(new SearchRunsRequest([experimentId], "metrics.val_roc_auc > 0.95"), CancellationToken.None);

        // Assert
        Assert.Equal(children.AsEnumerable().Reverse().Select(c => c.RunId), byParent.Runs!.Select(r => r.Info.RunId));
        Assert.Equal(2, good.Runs!.Count);
        Assert.Null(none.Runs);
    }

    [Fact]
    public async Task UploadsListsAndDownloadsArtifactsThroughTheServer()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        var model = Enumerable.Range(0, 647).Select(i => (byte)i).ToArray();

        // Act
        await mlflow.Client.UploadArtifactAsync(run, "model/model.zip", model, "application/zip", CancellationToken.None);
        await mlflow.Client.UploadArtifactAsync(run, "model/MLmodel", "artifact_path: model\n"u8.ToArray(), "text/plain", CancellationToken.None);
        var root = await mlflow.Api.ListArtifactsAsync(run.RunId, null, CancellationToken.None);
        var folder = await mlflow.Api.ListArtifactsAsync(run.RunId, "model", CancellationToken.None);
        var proxied = await mlflow.Api.ListProxiedArtifactsAsync($"1/{run.RunId}/artifacts/model", CancellationToken.None);
        var downloaded = await mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "model/model.zip", CancellationToken.None);

        // Assert
        Assert.Equal(model, downloaded);
        Assert.Equal(run.ArtifactUri, root.RootUri);
        Assert.Equal(new ArtifactFile("model", true, null), Assert.Single(root.Files!));
        Assert.Equal(["model/MLmodel", "model/model.zip"], folder.Files!.Select(f => f.Path));
        Assert.Equal([new ArtifactFile("MLmodel", false, 21), new ArtifactFile("model.zip", false, 647)], proxied.Files!);
        Assert.Contains($"PUT /api/2.0/mlflow-artifacts/artifacts/1/{run.RunId}/artifacts/model/model.zip 200", mlflow.Requests("model.zip").Select(r => r.ToString()));
    }

    [Fact]
    public async Task EveryBodyArrivesWithItsLengthNeverChunked()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var model = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();

        // Act: JSON calls of every kind the platform makes, and artifact uploads through the server
        var run = await NewRunAsync(mlflow);
        await mlflow.Client.LogAsync(run.RunId, metrics: new Dictionary<string, double> { ["val_roc_auc"] = 0.68 },
            parameters: new Dictionary<string, string> { ["leaves"] = "31" }, cancellationToken: CancellationToken.None);
        await mlflow.Client.LogDatasetAsync(run.RunId, new Dataset("clean-train", "abc", "postgres", "{}", null, null), "training", CancellationToken.None);
        await mlflow.Client.UploadArtifactAsync(run, "model/model.zip", model, "application/zip", CancellationToken.None);
        await mlflow.Client.UploadArtifactAsync(run, "model/MLmodel", "flavors: {}\n"u8.ToArray(), "text/plain", CancellationToken.None);
        var streamed = Enumerable.Range(0, 5_000).Select(i => (byte)i).ToArray();
        await mlflow.Api.UploadProxiedArtifactAsync($"1/{run.RunId}/artifacts/plots/streamed.png",
            UnknownLengthContent.Create(streamed, "image/png"), CancellationToken.None);
        await mlflow.Client.EnsureRegisteredModelAsync("m", "", CancellationToken.None);
        await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest("m", $"{run.ArtifactUri}/model", run.RunId), CancellationToken.None);
        await mlflow.Client.PromoteAsync("m", "1", CancellationToken.None);
        await mlflow.Client.EndRunAsync(run.RunId, MlflowNames.Finished, CancellationToken.None);

        // Assert: what MLflow 3 would have read as empty never left the client
        var sent = mlflow.Requests("/api/2.0/").Where(r => r.Method is "POST" or "PUT").ToArray();
        Assert.Equal(12, sent.Length);
        Assert.All(sent, r => Assert.False(r.Chunked, $"{r} arrived chunked"));
        Assert.All(sent, r => Assert.True(r.ContentLength > 0, $"{r} arrived without a length"));
        Assert.Equal(model.Length, mlflow.Requests("model.zip").Single().ContentLength);
        Assert.Equal(model, await mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "model/model.zip", CancellationToken.None));
        Assert.Equal(streamed.Length, mlflow.Requests("streamed.png").Single().ContentLength);
        Assert.Equal(streamed, await mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "plots/streamed.png", CancellationToken.None));
        Assert.Equal(200, Assert.Single(mlflow.Requests("/experiments/create")).Status);
    }

    [Fact]
    public async Task AModelOfSeveralMegabytesGoesUpAndComesBackWhole()
    {
        // Arrange: about the size of the chosen LightGBM model (1,500 trees)
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        var model = new byte[3 * 1024 * 1024];
        new Random(5).NextBytes(model);

        // Act
        await mlflow.Client.UploadArtifactAsync(run, "model/model.zip", model, "application/zip", CancellationToken.None);
        var downloaded = await mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "model/model.zip", CancellationToken.None);

        // Assert
        Assert.Equal(model, downloaded);
    }

    [Fact]
    public async Task AMissingArtifactIsAServerErrorAndIsNotRetried()
    {
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);

        var error = await Assert.ThrowsAsync<MlflowException>(() =>
            mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "model/nope.bin", CancellationToken.None));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal("INTERNAL_ERROR", error.ErrorCode);
        Assert.Contains("HeadObject operation: Not Found", error.ServerMessage);
        Assert.Equal([$"GET /api/2.0/mlflow-artifacts/artifacts/1/{run.RunId}/artifacts/model/nope.bin 500"], mlflow.Requests("nope.bin").Select(r => r.ToString()));
    }

    [Fact]
    public async Task FindArtifactTellsAFileNeverWrittenFromAStoreThatFails()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        var card = Encoding.UTF8.GetBytes("# Model card");
        await mlflow.Client.UploadArtifactAsync(run, "model_card.md", card, "text/markdown", CancellationToken.None);

        // Act and assert: a file there, a file never written, and a file there while the store fails
        Assert.Equal(card, await mlflow.Client.FindArtifactAsync(run.ArtifactUri, "model_card.md", CancellationToken.None));
        Assert.Null(await mlflow.Client.FindArtifactAsync(run.ArtifactUri, "slices.json", CancellationToken.None));
        mlflow.Server.FailingDownloads = 1;
        var error = await Assert.ThrowsAsync<MlflowException>(() => mlflow.Client.FindArtifactAsync(run.ArtifactUri, "model_card.md", CancellationToken.None));
        Assert.Contains("Could not connect to the endpoint URL", error.ServerMessage);
    }

    [Fact]
    public async Task ReadsAndWritesArtifactsStraightInS3WhenTheRootIsAnS3Uri()
    {
        // Arrange: a run whose artifact root is in the S3 server (a tracking server without --serve-artifacts)
        await using var mlflow = await StartAsync();
        var bucket = $"mlflow-{Guid.NewGuid():N}"[..20];
        var minio = TestServers.CreateMinioClient();
        await minio.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket));
        var run = (await NewRunAsync(mlflow)) with { ArtifactUri = $"s3://{bucket}/1/abc/artifacts" };
        var content = Encoding.UTF8.GetBytes("{\"threshold\": 0.31}");

        // Act
        await mlflow.Client.UploadArtifactAsync(run, "model/metadata.json", content, "application/json", CancellationToken.None);
        var downloaded = await mlflow.Client.DownloadArtifactAsync(run.ArtifactUri, "model/metadata.json", CancellationToken.None);

        // Assert: the object is where MLflow itself would put it, and nothing went through the tracking server
        var stat = await minio.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject("1/abc/artifacts/model/metadata.json"));
        Assert.Equal(content.Length, stat.Size);
        Assert.Equal(content, downloaded);
        Assert.Empty(mlflow.Requests("mlflow-artifacts"));
    }

    [Fact]
    public async Task FindArtifactInS3AnswersAMissingObjectWithNull()
    {
        // Arrange: a run whose artifact root is in the S3 server, with a card and no slices.json
        await using var mlflow = await StartAsync();
        var bucket = $"mlflow-{Guid.NewGuid():N}"[..20];
        await TestServers.CreateMinioClient().MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket));
        var run = (await NewRunAsync(mlflow)) with { ArtifactUri = $"s3://{bucket}/1/abc/artifacts" };
        var card = Encoding.UTF8.GetBytes("# Model card");
        await mlflow.Client.UploadArtifactAsync(run, "model_card.md", card, "text/markdown", CancellationToken.None);

        // Act
        var found = await mlflow.Client.FindArtifactAsync(run.ArtifactUri, "model_card.md", CancellationToken.None);
        var missing = await mlflow.Client.FindArtifactAsync(run.ArtifactUri, "slices.json", CancellationToken.None);

        // Assert: S3 says itself that the object is not there; the tracking server is never asked
        Assert.Equal(card, found);
        Assert.Null(missing);
        Assert.Empty(mlflow.Requests("mlflow-artifacts"));
    }

    [Fact]
    public async Task RegistersVersionsAndResolvesTheirModelFolders()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        await mlflow.Client.EnsureRegisteredModelAsync("diabetes-readmission", "readmission within 30 days", CancellationToken.None);
        await mlflow.Client.EnsureRegisteredModelAsync("diabetes-readmission", "readmission within 30 days", CancellationToken.None);

        // Act
        var fromRuns = (await mlflow.Api.CreateModelVersionAsync(
            new CreateModelVersionRequest("diabetes-readmission", $"runs:/{run.RunId}/model", run.RunId), CancellationToken.None)).ModelVersion;
        var fromArtifacts = (await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest("diabetes-readmission",
            $"{run.ArtifactUri}/model", run.RunId, Tags: [new MlflowTag("val_roc_auc", "0.68")]), CancellationToken.None)).ModelVersion;

        // Assert
        Assert.Equal(("1", "None", "READY", ""), (fromRuns.Version, fromRuns.CurrentStage, fromRuns.Status, fromRuns.Description));
        Assert.Equal("2", fromArtifacts.Version);
        Assert.Equal("0.68", fromArtifacts.Tag("val_roc_auc"));
        Assert.Equal($"{run.ArtifactUri}/model", await mlflow.Client.ResolveModelRootAsync(fromRuns, CancellationToken.None));
        Assert.Equal($"{run.ArtifactUri}/model", await mlflow.Client.ResolveModelRootAsync(fromArtifacts, CancellationToken.None));
        Assert.Equal("2", (await mlflow.Client.GetNewestVersionAsync("diabetes-readmission", CancellationToken.None))!.Version);
        Assert.Single(mlflow.Requests("/registered-models/create"));
    }

    [Fact]
    public async Task PromotionSetsTheAliasAndTheStageAndArchivesThePreviousVersion()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        await mlflow.Client.EnsureRegisteredModelAsync("m", "", CancellationToken.None);
        foreach (var _ in Enumerable.Range(0, 2))
        {
            await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest("m", $"runs:/{run.RunId}/model", run.RunId), CancellationToken.None);
        }

        // Act
        Assert.Null(await mlflow.Client.GetProductionVersionAsync("m", CancellationToken.None));
        await mlflow.Client.PromoteAsync("m", "1", CancellationToken.None);
        var second = await mlflow.Client.PromoteAsync("m", "2", CancellationToken.None);

        // Assert
        Assert.Equal("Production", second.CurrentStage);
        Assert.Equal(["production"], second.Aliases!);
        Assert.Equal("Archived", (await mlflow.Api.GetModelVersionAsync("m", "1", CancellationToken.None)).ModelVersion.CurrentStage);
        Assert.Equal("2", (await mlflow.Client.GetProductionVersionAsync("m", CancellationToken.None))!.Version);
        var model = (await mlflow.Api.GetRegisteredModelAsync("m", CancellationToken.None)).RegisteredModel;
        Assert.Equal([new RegisteredModelAlias("production", "2")], model.Aliases!);
        Assert.Equal(["Archived", "Production"], model.LatestVersions!.Select(v => v.CurrentStage));
        var found = await mlflow.Api.SearchRegisteredModelsAsync("name LIKE 'm%'", 5, CancellationToken.None);
        Assert.Equal("m", Assert.Single(found.RegisteredModels!).Name);

        // Without the alias, the stage still names Production
        await mlflow.Api.DeleteAliasAsync(new DeleteAliasRequest("m", "production"), CancellationToken.None);
        Assert.Equal("2", (await mlflow.Client.GetProductionVersionAsync("m", CancellationToken.None))!.Version);
        var latest = await mlflow.Api.GetLatestVersionsAsync(new GetLatestVersionsRequest("m", ["Production"]), CancellationToken.None);
        Assert.Equal("2", Assert.Single(latest.ModelVersions!).Version);
    }

    [Fact]
    public async Task MapsRegistryErrorsAsTheServerAnswersThem()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        var run = await NewRunAsync(mlflow);
        await mlflow.Client.EnsureRegisteredModelAsync("m", "", CancellationToken.None);
        await mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest("m", $"runs:/{run.RunId}/model", run.RunId), CancellationToken.None);

        // Act and assert: each error case of the transcript
        var missingModel = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => mlflow.Api.GetRegisteredModelAsync("no-such-model", CancellationToken.None));
        Assert.Equal("Registered Model with name=no-such-model not found", missingModel.ServerMessage);
        var missingVersion = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() => mlflow.Api.GetModelVersionAsync("m", "99", CancellationToken.None));
        Assert.Equal("Model Version (name=m, version=99) not found", missingVersion.ServerMessage);
        var missingAlias = await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => mlflow.Api.GetModelVersionByAliasAsync("m", "staging", CancellationToken.None));
        Assert.Equal((HttpStatusCode.BadRequest, "Registered model alias staging not found."), (missingAlias.StatusCode, missingAlias.ServerMessage));
        await Assert.ThrowsAsync<MlflowInvalidParameterException>(() => mlflow.Api.GetModelVersionByAliasAsync("no-such-model", "production", CancellationToken.None));
        await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() =>
            mlflow.Api.GetLatestVersionsAsync(new GetLatestVersionsRequest("no-such-model", ["Production"]), CancellationToken.None));
        await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() =>
            mlflow.Api.CreateModelVersionAsync(new CreateModelVersionRequest("no-such-model", $"runs:/{run.RunId}/model", run.RunId), CancellationToken.None));
        var duplicate = await Assert.ThrowsAsync<MlflowResourceAlreadyExistsException>(() =>
            mlflow.Api.CreateRegisteredModelAsync(new CreateRegisteredModelRequest("m"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        var badStage = await Assert.ThrowsAsync<MlflowInvalidParameterException>(() =>
            mlflow.Api.TransitionStageAsync(new TransitionStageRequest("m", "1", "Prod", false), CancellationToken.None));
        Assert.Equal("Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.", badStage.ServerMessage);
        var missingRun = await Assert.ThrowsAsync<MlflowResourceNotFoundException>(() =>
            mlflow.Api.GetRunAsync("00000000000000000000000000000000", CancellationToken.None));
        Assert.Equal("Run with id=00000000000000000000000000000000 not found", missingRun.ServerMessage);
        var noRunId = await Assert.ThrowsAsync<MlflowInvalidParameterException>(() =>
            mlflow.Api.LogBatchAsync(new LogBatchRequest("", [new Metric("m", 1, 0)], null, null), CancellationToken.None));
        Assert.Equal("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.", noRunId.ServerMessage);
    }

    [Fact]
    public async Task UnknownPathsAndWrongMethodsAreHtmlPages()
    {
        await using var mlflow = await StartAsync();
        using var http = new HttpClient { BaseAddress = mlflow.Server.BaseAddress };

        using var unknown = await http.GetAsync("/api/2.0/mlflow/no-such-endpoint");
        using var wrongMethod = await http.GetAsync("/api/2.0/mlflow/experiments/create");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("text/html", unknown.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        var error = await MlflowException.FromResponseAsync(unknown);
        Assert.Equal("HTTP_404", error.ErrorCode);
    }

    [Fact]
    public async Task RetriesWhileTheServerIsUnavailableAndThenSucceeds()
    {
        // Arrange
        await using var mlflow = await StartAsync();
        await mlflow.Client.GetOrCreateExperimentAsync("flaky", CancellationToken.None);
        mlflow.Server.Unavailable = true;

        // Act: the server comes back once it has refused the call, while the client waits to try again
        var call = mlflow.Api.GetExperimentByNameAsync("flaky", CancellationToken.None);
        await Poll.UntilAsync(() => mlflow.Requests("get-by-name?experiment_name=flaky").Any(a => a.Status == 503), "the call to be refused");
        mlflow.Server.Unavailable = false;
        var experiment = await call;

        // Assert
        Assert.Equal("flaky", experiment.Experiment.Name);
        var attempts = mlflow.Requests("get-by-name?experiment_name=flaky");
        Assert.Contains(attempts, a => a.Status == 503);
        Assert.Equal(200, attempts[^1].Status);
    }

    [Fact]
    public async Task APostTheServerReceivedIsNotSentAgain()
    {
        // Arrange: the server answers 503, which a GET would retry
        await using var mlflow = await StartAsync();
        mlflow.Server.Unavailable = true;

        // Act: creating twice could make two experiments (or runs, or versions) of one call
        var error = await Assert.ThrowsAnyAsync<MlflowException>(() =>
            mlflow.Api.CreateExperimentAsync(new CreateExperimentRequest("once"), CancellationToken.None));

        // Assert
        Assert.Equal("HTTP_503", error.ErrorCode);
        Assert.Single(mlflow.Requests("/experiments/create"));
    }
}
