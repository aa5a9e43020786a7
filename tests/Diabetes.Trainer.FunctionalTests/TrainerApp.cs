using System.Net.Http.Json;
using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// The trainer in memory, configured only through its documented keys: CLEAN DATA in a fresh database of the real
/// PostgreSQL, and the MLflow double on a loopback port as <c>services__mlflow__http__0</c>.
/// </summary>
public sealed class TrainerApp : ServiceFactory<Program>
{
    /// <summary>Short, so that a job run left RUNNING by a stopped trainer reads as such within a couple of seconds.</summary>
    public static readonly TimeSpan QuickHeartbeat = TimeSpan.FromSeconds(1);

    private readonly string _cleanConnectionString;
    private bool _ownsMlflow;
    private readonly string? _algorithms;
    private readonly TimeSpan _heartbeatInterval;

    private TrainerApp(string cleanConnectionString, MlflowServerDouble mlflow, bool ownsMlflow, string? algorithms, TimeSpan heartbeatInterval)
    {
        _cleanConnectionString = cleanConnectionString;
        Mlflow = mlflow;
        _ownsMlflow = ownsMlflow;
        _algorithms = algorithms;
        _heartbeatInterval = heartbeatInterval;
    }

    public MlflowServerDouble Mlflow { get; }

    /// <summary>A client of the double, for reading what the trainer logged.</summary>
    public MlflowClient MlflowClient => Services.GetRequiredService<MlflowClient>();

    public string CleanConnectionString => _cleanConnectionString;

    /// <summary>
    /// Starts with CLEAN DATA made of the dataset's first <paramref name="encounters"/> lines (none: an empty table), and
    /// the double as MLflow 3, accepting the Host headers <paramref name="mlflowAllowedHosts"/> (default: the server's);
    /// a running job beats every <paramref name="heartbeatInterval"/> (default: <see cref="QuickHeartbeat"/>).
    /// </summary>
    public static async Task<TrainerApp> StartAsync(int encounters, int batchSize = 1_000, IReadOnlyList<string>? mlflowAllowedHosts = null,
        string? algorithms = null, TimeSpan? heartbeatInterval = null)
    {
        var connectionString = await TestServers.CreateDatabaseAsync("cleandata");
        await CleanDataSeeder.SeedAsync(connectionString, TestData.CsvLines.Take(encounters + 1), batchSize);
        return new TrainerApp(connectionString, await MlflowServerDouble.StartAsync(MlflowServerDouble.Mlflow3, mlflowAllowedHosts), ownsMlflow: true,
            algorithms, heartbeatInterval ?? QuickHeartbeat);
    }

    /// <summary>
    /// Another trainer process on the same CLEAN DATA and MLflow: the one that starts after this one stopped, or a
    /// second one running beside it (or one whose CLEAN DATA is elsewhere). The MLflow double goes with the new app,
    /// which disposes it.
    /// </summary>
    public TrainerApp Another(string? cleanConnectionString = null)
    {
        var another = new TrainerApp(cleanConnectionString ?? _cleanConnectionString, Mlflow, _ownsMlflow, _algorithms, _heartbeatInterval);
        _ownsMlflow = false;
        return another;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:cleandata", _cleanConnectionString);
        builder.UseSetting("services:mlflow:http:0", Mlflow.BaseAddress.ToString());
        builder.UseSetting("Training:HeartbeatInterval", _heartbeatInterval.ToString());
        builder.UseSetting("Training:Algorithms", _algorithms);
    }

    public async Task<(TrainingJobResponse Job, Uri Location)> StartTrainingAsync()
    {
        using var response = await CreateClient().PostAsync("/api/trainings", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<TrainingJobResponse>())!, response.Headers.Location!);
    }

    /// <summary>Polls the job until it ends.</summary>
    public Task<TrainingJobResponse> WaitForJobAsync(string id) => WaitForJobAsync(id, job => job.Status != nameof(TrainingStatus.Running));

    /// <summary>Polls the job until <paramref name="condition"/> holds of it.</summary>
    public async Task<TrainingJobResponse> WaitForJobAsync(string id, Func<TrainingJobResponse, bool> condition)
    {
        var client = CreateClient();
        return await Poll.UntilAsync(async () => (await client.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{id}"))!, condition,
            $"job {id} to get there");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsMlflow)
        {
            await Mlflow.DisposeAsync();
        }
    }
}
