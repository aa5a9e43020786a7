extern alias inference;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Mlflow;
using inference::Diabetes.InferenceApi.Apis;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The inference API in memory, configured only through its documented keys: the MLflow double on a loopback port as
/// <c>services__mlflow__http__0</c>, the S3 server as <c>ConnectionStrings__minio</c>, and a short refresh interval.
/// </summary>
public sealed class InferenceApp : ServiceFactory<inference::Program>
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(200);

    private InferenceApp(MlflowServerDouble mlflow) => Mlflow = mlflow;

    public MlflowServerDouble Mlflow { get; }

    /// <summary>A client of the double, for publishing and promoting versions.</summary>
    public MlflowClient MlflowClient => Services.GetRequiredService<MlflowClient>();

    /// <summary>Starts with the double as MLflow 3, accepting the Host headers <paramref name="mlflowAllowedHosts"/> (default: the server's).</summary>
    public static async Task<InferenceApp> StartAsync(IReadOnlyList<string>? mlflowAllowedHosts = null) =>
        new(await MlflowServerDouble.StartAsync(MlflowServerDouble.Mlflow3, mlflowAllowedHosts));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("services:mlflow:http:0", Mlflow.BaseAddress.ToString());
        builder.UseSetting("ConnectionStrings:minio", TestServers.S3ConnectionString);
        builder.UseSetting("Serving:RefreshInterval", RefreshInterval.ToString());
    }

    public async Task<HttpResponseMessage> PredictAsync(JsonNode? body, string path = "/api/predictions") =>
        await CreateClient().PostAsync(path, new StringContent(body?.ToJsonString() ?? "null", System.Text.Encoding.UTF8, "application/json"));

    public async Task<PredictionResponse> PredictOkAsync(JsonNode body)
    {
        using var response = await PredictAsync(body);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PredictionResponse>())!;
    }

    /// <summary>Waits until the API serves <paramref name="version"/>.</summary>
    public Task WaitForVersionAsync(string version) =>
        WaitForModelAsync(model => model.TryGetProperty("version", out var served) && served.GetString() == version, $"version {version} to be served");

    /// <summary>
    /// Waits until <paramref name="holds"/> is true of <c>/api/model</c> (the served model, or the 503 problem that
    /// says why there is none; both say what the watcher last found) and answers it.
    /// </summary>
    public async Task<JsonElement> WaitForModelAsync(Func<JsonElement, bool> holds, string what)
    {
        var client = CreateClient();
        return await Poll.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/api/model");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, holds, what);
    }

    /// <summary>Waits until <c>/health</c> says <paramref name="status"/> (Healthy, Degraded or Unhealthy).</summary>
    public async Task WaitForHealthAsync(string status)
    {
        var client = CreateClient();
        await Poll.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/health");
            return await response.Content.ReadAsStringAsync();
        }, health => health == status, $"/health to say {status}");
    }

    /// <summary>The watcher's question to MLflow: the alias read by GET, with a query (setting it is a POST with a body).</summary>
    public const string RegistryLookPath = "/registered-models/alias?";

    /// <summary>How many times the watcher has asked MLflow which version holds Production.</summary>
    public int RegistryLooks => Mlflow.Requests(RegistryLookPath).Length;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Mlflow.DisposeAsync();
    }
}
