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

    /// <summary>A run in a new experiment with two values of metric <c>auc</c>, made with framed JSON bodies.</summary>
    private static async Task<string> NewRunWithMetricAsync(HttpClient http)
    {
        async Task<JsonNode> PostAsync(string path, string json)
        {
            using var response = await http.PostAsync($"/api/2.0/mlflow/{path}", new StringContent(json, Encoding.UTF8, "application/json"));
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
