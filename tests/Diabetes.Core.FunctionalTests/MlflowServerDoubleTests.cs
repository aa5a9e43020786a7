using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Diabetes.MlflowDouble;

namespace Diabetes.Core.FunctionalTests;

/// <summary>
/// The double answers raw HTTP as each major of the real server does, refusals included: MLflow 2.17 as in the
/// transcript, MLflow 3 with the differences of uvicorn, the Host check, error classes and paging.
/// </summary>
public class MlflowServerDoubleTests
{
    private const string Mlflow2 = MlflowServerDouble.Mlflow2;
    private const string Mlflow3 = MlflowServerDouble.Mlflow3;
    private const string MissingName =
        "\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"Missing value for required parameter 'name'. See the API docs for more information about request parameters.\"";
    private const string Mlflow3InvalidParameter = ", \"sqlstate\": \"KAM00\", \"error_class\": \"INVALID_PARAMETER_VALUE\"";

    [Theory]
    [InlineData(Mlflow2, "text/plain; charset=utf-8", "{\"name\": \"x\"}", 400, "{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"Bad Request. Content-Type must be one of ['application/json'].\"}")]
    [InlineData(Mlflow2, "application/json", "{\"name\": ", 400, "{" + MissingName + "}")]
    [InlineData(Mlflow2, "application/json; charset=utf-8", "{\"name\": \"x\"}", 200, "{\n  \"experiment_id\": \"1\"\n}")]
    [InlineData(Mlflow3, "text/plain; charset=utf-8", "{\"name\": \"x\"}", 400, "{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"Bad Request. Content-Type must be one of ['application/json'].\"" + Mlflow3InvalidParameter + "}")]
    [InlineData(Mlflow3, "application/json", "{\"name\": ", 400, "{" + MissingName + Mlflow3InvalidParameter + "}")]
    [InlineData(Mlflow3, "application/json; charset=utf-8", "{\"name\": \"x\"}", 200, "{\n  \"experiment_id\": \"1\"\n}")]
    public async Task AnswersRawRequestsByteForByteLikeTheServer(string version, string contentType, string body, int status, string expected)
    {
        // Arrange
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        // Act
        using var response = await http.PostAsync("/api/2.0/mlflow/experiments/create", content);

        // Assert
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Mlflow2, HttpStatusCode.OK, "{\n  \"experiment_id\": \"1\"\n}")]
    [InlineData(Mlflow3, HttpStatusCode.BadRequest, "{" + MissingName + Mlflow3InvalidParameter + "}")]
    public async Task AChunkedJsonBodyIsReadAsEmptyByMlflow3(string version, HttpStatusCode status, string expected)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };

        using var response = await http.PostAsync("/api/2.0/mlflow/experiments/create", UnknownLengthContent.Create("{\"name\": \"x\"}"u8.ToArray(), "application/json"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.True(mlflow.Requests().Single(r => r.Method == "POST").Chunked);
    }

    [Theory]
    [InlineData(Mlflow2, 5)]
    [InlineData(Mlflow3, 0)]
    public async Task AChunkedUploadIsStoredEmptyByMlflow3AndStillAnswered200(string version, int storedBytes)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        const string path = "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/model.zip";

        using var upload = await http.PutAsync(path, UnknownLengthContent.Create([1, 2, 3, 4, 5], "application/zip"));
        var stored = await http.GetByteArrayAsync(path);

        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal("{}", await upload.Content.ReadAsStringAsync());
        Assert.Equal(storedBytes, stored.Length);
    }

    [Fact]
    public async Task Mlflow3RefusesAHostItDoesNotAllowButStillAnswersHealthAndVersion()
    {
        // Arrange: allowed hosts that name the service, not the loopback address the client uses
        await using var mlflow = await MlflowServerDouble.StartAsync(Mlflow3, ["mlflow", "mlflow:*"]);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };

        // Act
        using var health = await http.GetAsync("/health");
        using var version = await http.GetAsync("/version");
        using var api = await http.GetAsync("/api/2.0/mlflow/experiments/search?max_results=1");
        using var named = new HttpRequestMessage(HttpMethod.Get, "/api/2.0/mlflow/experiments/search?max_results=1") { Headers = { Host = "mlflow:5000" } };
        using var allowed = await http.SendAsync(named);

        // Assert
        Assert.Equal((HttpStatusCode.OK, "OK"), (health.StatusCode, await health.Content.ReadAsStringAsync()));
        Assert.Equal(Mlflow3, await version.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.Equal("text/plain", api.Content.Headers.ContentType!.ToString());
        Assert.Equal("Invalid Host header - possible DNS rebinding attack detected", await api.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Theory]
    [InlineData(Mlflow2)]
    [InlineData(Mlflow3)]
    public async Task TheDefaultAllowedHostsTakeLoopbackAndPrivateAddressesOnly(string version)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };

        async Task<HttpStatusCode> AsHostAsync(string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/2.0/mlflow/experiments/search?max_results=1") { Headers = { Host = host } };
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await AsHostAsync("localhost:5000"));
        Assert.Equal(HttpStatusCode.OK, await AsHostAsync("[::1]:5000"));
        Assert.Equal(HttpStatusCode.OK, await AsHostAsync("[::1]"));
        Assert.Equal(HttpStatusCode.OK, await AsHostAsync("10.1.2.3:5000"));
        Assert.Equal(HttpStatusCode.OK, await AsHostAsync("172.20.0.5"));
        // 2.17 has no Host check; 3.x refuses a name or public address it was not given
        var refused = version == Mlflow2 ? HttpStatusCode.OK : HttpStatusCode.Forbidden;
        Assert.Equal(refused, await AsHostAsync("mlflow:5000"));
        Assert.Equal(refused, await AsHostAsync("172.32.0.5"));
    }

    [Theory]
    [InlineData(Mlflow2, "{\n  \"metrics\": [")]
    [InlineData(Mlflow3, "{\n  \"next_page_token\": \"eyJvZmZzZXQiOiAwfQ==\"\n}")]
    public async Task MetricHistoryWithoutMaxResultsIsEmptyOnMlflow3(string version, string expectedStart)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);

        var withoutLimit = await http.GetStringAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=auc");
        var withLimit = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=auc&max_results=100"))!;
        using var overLimit = await http.GetAsync($"/api/2.0/mlflow/metrics/get-history?run_id={runId}&metric_key=auc&max_results=25001");

        Assert.StartsWith(expectedStart, withoutLimit);
        Assert.Equal(2, withLimit["metrics"]!.AsArray().Count);
        Assert.Null(withLimit["next_page_token"]);
        Assert.Equal(version == Mlflow2 ? HttpStatusCode.OK : HttpStatusCode.BadRequest, overLimit.StatusCode);
    }

    [Theory]
    [InlineData(Mlflow2, false)]
    [InlineData(Mlflow3, true)]
    public async Task AnEmptyArtifactPathListsTheRootOnMlflow3Only(string version, bool listsRoot)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);
        await http.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/1/{runId}/artifacts/model/MLmodel", new ByteArrayContent("x"u8.ToArray()));

        var emptyPath = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/artifacts/list?run_id={runId}&path="))!;
        var noPath = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/artifacts/list?run_id={runId}"))!;

        Assert.Equal("model", (string?)noPath["files"]![0]!["path"]);
        Assert.Equal(listsRoot, emptyPath["files"] is not null);
        Assert.Equal($"mlflow-artifacts:/1/{runId}/artifacts", (string?)emptyPath["root_uri"]);
    }

    [Theory]
    [InlineData(Mlflow2, false)]
    [InlineData(Mlflow3, true)]
    public async Task GetRunHasInputsAndOutputsOnMlflow3(string version, bool present)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);

        var run = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={runId}"))!["run"]!.AsObject();

        Assert.Equal(present, run.ContainsKey("outputs"));
        Assert.Equal(present, run.ContainsKey("inputs"));
        Assert.Equal(0.7, (double)run["data"]!["metrics"]![0]!["value"]!);
    }

    [Theory]
    [InlineData(Mlflow2, "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"Run with id=nope not found\"}")]
    [InlineData(Mlflow3, "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"Run with id=nope not found\", \"sqlstate\": \"KAM00\", \"error_class\": \"RESOURCE_NOT_FOUND\"}")]
    public async Task ErrorsCarryTheirClassOnMlflow3(string version, string expected)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };

        using var response = await http.GetAsync("/api/2.0/mlflow/runs/get?run_id=nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Mlflow2, "{\"key\": \"bad|key\", \"value\": \"1\"}", "Invalid value \"bad|key\" for parameter 'params[0].key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).")]
    [InlineData(Mlflow3, "{\"key\": \"../up\", \"value\": \"1\"}", "Invalid value \"../up\" for parameter 'params[0].key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../up'")]
    [InlineData(Mlflow2, "{\"key\": \"KEY\", \"value\": \"1\"}", "Param key 'KKKKKKKKKK")]
    [InlineData(Mlflow3, "{\"key\": \"KEY\", \"value\": \"1\"}", "'Param key' exceeds the maximum length of 250 characters")]
    public async Task ABatchWithABadKeyIsRefusedWholeWithTheServersMessage(string version, string param, string expected)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);

        using var response = await PostRawAsync(http, "runs/log-batch",
            $"{{\"run_id\": \"{runId}\", \"metrics\": [{{\"key\": \"written\", \"value\": 1, \"timestamp\": 3}}], \"params\": [{param.Replace("KEY", new string('K', 251), StringComparison.Ordinal)}]}}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("INVALID_PARAMETER_VALUE", (string?)error["error_code"]);
        Assert.StartsWith(expected, (string?)error["message"]);
        var run = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={runId}"))!["run"]!;
        Assert.DoesNotContain("written", run["data"]!["metrics"]!.ToJsonString());
    }

    [Theory]
    [InlineData(Mlflow2)]
    [InlineData(Mlflow3)]
    public async Task LongParamAndTagValuesAreCutToTheLimitNotRefused(string version)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync(version);
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);

        using var response = await PostRawAsync(http, "runs/log-batch",
            $"{{\"run_id\": \"{runId}\", \"params\": [{{\"key\": \"p\", \"value\": \"{new string('p', 7000)}\"}}], \"tags\": [{{\"key\": \"t\", \"value\": \"{new string('t', 9000)}\"}}]}}");

        response.EnsureSuccessStatusCode();
        var data = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={runId}"))!["run"]!["data"]!;
        Assert.Equal(MlflowServerDouble.MaxParamValueLength, ((string)data["params"]!.AsArray().Single(p => (string?)p!["key"] == "p")!["value"]!).Length);
        Assert.Equal(MlflowServerDouble.MaxTagValueLength, ((string)data["tags"]!.AsArray().Single(t => (string?)t!["key"] == "t")!["value"]!).Length);
    }

    [Theory]
    [InlineData("name", 501, "'name' exceeds the maximum length of 500 characters")]
    [InlineData("digest", 37, "'digest' exceeds the maximum length of 36 characters")]
    public async Task ADatasetFieldOverItsColumnSizeIsRefused(string field, int length, string expected)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync();
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);
        var dataset = new JsonObject { ["name"] = "d", ["digest"] = "abc", ["source_type"] = "postgresql", ["source"] = "{}" };
        dataset[field] = new string('x', length);

        using var response = await PostRawAsync(http, "runs/log-inputs",
            new JsonObject { ["run_id"] = runId, ["datasets"] = new JsonArray(new JsonObject { ["dataset"] = dataset }) }.ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
    }

    [Theory]
    [InlineData("\"DONE\"", HttpStatusCode.OK, null)]
    [InlineData("7", HttpStatusCode.BadRequest, "Invalid value 7 for parameter 'status' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.")]
    public async Task ARunStatusOutsideTheEnumIsDroppedAndANonStringRefused(string status, HttpStatusCode expected, string? message)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync();
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        var runId = await NewRunWithMetricAsync(http);

        using var response = await PostRawAsync(http, "runs/update", $"{{\"run_id\": \"{runId}\", \"status\": {status}}}");

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(message, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
        var run = JsonNode.Parse(await http.GetStringAsync($"/api/2.0/mlflow/runs/get?run_id={runId}"))!["run"]!;
        Assert.Equal("RUNNING", (string?)run["info"]!["status"]);
    }

    [Theory]
    [InlineData("Production", true, "Archived")]
    [InlineData("production", false, "Production")]
    public async Task ArchivingExistingVersionsMovesTheOtherHolderOfTheStageOnlyWhenAsked(string stage, bool archive, string firstEndsIn)
    {
        await using var mlflow = await MlflowServerDouble.StartAsync();
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        await TwoVersionsAsync(http);
        await PostOkAsync(http, "model-versions/transition-stage", "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"Production\"}");

        await PostOkAsync(http, "model-versions/transition-stage",
            $"{{\"name\": \"m\", \"version\": \"2\", \"stage\": \"{stage}\", \"archive_existing_versions\": {(archive ? "true" : "false")}}}");

        var first = JsonNode.Parse(await http.GetStringAsync("/api/2.0/mlflow/model-versions/get?name=m&version=1"))!;
        var second = JsonNode.Parse(await http.GetStringAsync("/api/2.0/mlflow/model-versions/get?name=m&version=2"))!;
        Assert.Equal(firstEndsIn, (string?)first["model_version"]!["current_stage"]);
        Assert.Equal("Production", (string?)second["model_version"]!["current_stage"]);
    }

    [Fact]
    public async Task ArchivingExistingVersionsIntoAStageThatIsNotActiveIsAServerError()
    {
        await using var mlflow = await MlflowServerDouble.StartAsync();
        using var http = new HttpClient { BaseAddress = mlflow.BaseAddress };
        await TwoVersionsAsync(http);

        using var response = await PostRawAsync(http, "model-versions/transition-stage",
            "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"Archived\", \"archive_existing_versions\": true}");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("INTERNAL_ERROR", (string?)error["error_code"]);
        Assert.Equal("Model version transition cannot archive existing model versions because 'Archived' is not an Active stage. Valid stages are ['Staging', 'Production']",
            (string?)error["message"]);
    }

    private static async Task TwoVersionsAsync(HttpClient http)
    {
        await PostOkAsync(http, "registered-models/create", "{\"name\": \"m\"}");
        await PostOkAsync(http, "model-versions/create", "{\"name\": \"m\", \"source\": \"mlflow-artifacts:/1/a/artifacts/model\"}");
        await PostOkAsync(http, "model-versions/create", "{\"name\": \"m\", \"source\": \"mlflow-artifacts:/1/b/artifacts/model\"}");
    }

    private static async Task PostOkAsync(HttpClient http, string path, string json)
    {
        using var response = await PostRawAsync(http, path, json);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A JSON body framed with its length, as every MLflow client must send it.</summary>
    private static Task<HttpResponseMessage> PostRawAsync(HttpClient http, string path, string json) =>
        http.PostAsync($"/api/2.0/mlflow/{path}", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>A run in a new experiment with two values of metric <c>auc</c>, made with framed JSON bodies.</summary>
    private static async Task<string> NewRunWithMetricAsync(HttpClient http)
    {
        async Task<JsonNode> PostAsync(string path, string json)
        {
            using var response = await PostRawAsync(http, path, json);
            response.EnsureSuccessStatusCode();
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }

        var experimentId = (string)(await PostAsync("experiments/create", "{\"name\": \"e\"}"))["experiment_id"]!;
        var runId = (string)(await PostAsync("runs/create", $"{{\"experiment_id\": \"{experimentId}\"}}"))["run"]!["info"]!["run_id"]!;
        await PostAsync("runs/log-batch",
            $"{{\"run_id\": \"{runId}\", \"metrics\": [{{\"key\": \"auc\", \"value\": 0.6, \"timestamp\": 1, \"step\": 0}}, {{\"key\": \"auc\", \"value\": 0.7, \"timestamp\": 2, \"step\": 1}}]}}");
        return runId;
    }
}
