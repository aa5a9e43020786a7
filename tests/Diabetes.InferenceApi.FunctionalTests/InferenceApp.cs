extern alias inference;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Mlflow;
using inference::Diabetes.InferenceApi.Apis;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The inference API in memory, configured only through its documented keys: the MLflow double on a loopback port as
/// <c>services__mlflow__http__0</c>, the S3 server as <c>ConnectionStrings__minio</c>, and a short refresh interval.
/// </summary>
public sealed class InferenceApp : WebApplicationFactory<inference::Program>
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

    /// <summary>Waits until the API serves <paramref name="version"/> (at most 30 seconds).</summary>
    public async Task WaitForVersionAsync(string version)
    {
        var client = CreateClient();
        var started = DateTime.UtcNow;
        while (true)
        {
            using var response = await client.GetAsync("/api/model");
            if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString() == version)
            {
                return;
            }

            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), $"Version {version} not served after 30 s.");
            await Task.Delay(50);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Mlflow.DisposeAsync();
    }
}
