extern alias inference;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Mlflow;
using inference::Diabetes.InferenceApi.Apis;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The inference API in memory, configured only through its documented keys: the MLflow double on a loopback port as
/// <c>services__mlflow__http__0</c>, the S3 server as <c>ConnectionStrings__minio</c>, a short refresh interval, and
/// any other keys a test gives (the prediction log's). Its logs are kept (<see cref="Logs"/>), and a test may give it
/// the clock it reads.
/// </summary>
public sealed class InferenceApp : ServiceFactory<inference::Program>
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(200);

    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly TimeProvider? _clock;
    private int _disposed;

    private InferenceApp(MlflowServerDouble mlflow, IReadOnlyDictionary<string, string?>? settings, TimeProvider? clock)
    {
        Mlflow = mlflow;
        _settings = settings ?? new Dictionary<string, string?>();
        _clock = clock;
    }

    public MlflowServerDouble Mlflow { get; }

    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    /// <summary>A client of the double, for publishing and promoting versions.</summary>
    public MlflowClient MlflowClient => Services.GetRequiredService<MlflowClient>();

    /// <summary>
    /// Starts with the double as MLflow 3, accepting the Host headers <paramref name="mlflowAllowedHosts"/> (default:
    /// the server's), and the configuration keys <paramref name="settings"/> besides; reading <paramref name="clock"/>
    /// (default: the system's).
    /// </summary>
    public static async Task<InferenceApp> StartAsync(
        IReadOnlyList<string>? mlflowAllowedHosts = null, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? clock = null) =>
        new(await MlflowServerDouble.StartAsync(MlflowServerDouble.Mlflow3, mlflowAllowedHosts), settings, clock);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("services:mlflow:http:0", Mlflow.BaseAddress.ToString());
        builder.UseSetting("ConnectionStrings:minio", TestServers.S3ConnectionString);
        builder.UseSetting("Serving:RefreshInterval", RefreshInterval.ToString());
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddFakeLogging(options => options.CollectRecordsForDisabledLogLevels = false));
        if (_clock is { } clock)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }
    }

    public async Task<HttpResponseMessage> PredictAsync(JsonNode? body, string path = "/api/predictions") =>
        await CreateClient().PostAsync(path, new StringContent(body?.ToJsonString() ?? "null", System.Text.Encoding.UTF8, "application/json"));

    public async Task<PredictionResponse> PredictOkAsync(JsonNode body)
    {
        using var response = await PredictAsync(body);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PredictionResponse>())!;
    }

    /// <summary>Predictions for <paramref name="requests"/>, in one batch.</summary>
    public async Task<PredictionResponse[]> PredictBatchOkAsync(IEnumerable<JsonNode> requests)
    {
        using var response = await PredictAsync(new JsonArray([.. requests]), "/api/predictions/batch");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PredictionResponse[]>())!;
    }

    /// <summary>Posts <paramref name="json"/> as it is written, as <c>application/json</c>.</summary>
    public async Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        await CreateClient().PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

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

    /// <summary>Stops the service, then the double; a second call does nothing (a test may stop the service itself).</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await base.DisposeAsync();
        await Mlflow.DisposeAsync();
    }
}
