using System.Net.Http.Json;
using Diabetes.Core.Mlflow;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// The trainer in memory, configured only through its documented keys: CLEAN DATA in a fresh database of the real
/// PostgreSQL, and the MLflow double on a loopback port as <c>services__mlflow__http__0</c>. Its warnings and errors
/// are kept (<see cref="Logs"/>).
/// </summary>
public sealed class TrainerApp : ServiceFactory<Program>
{
    /// <summary>
    /// Short, so that a job whose trainer died is taken over within a test; thirty renewals to a lease, so that a
    /// trainer starved of CPU on a busy machine (ten seconds without a renewal were seen) keeps its job.
    /// </summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan LeaseRenewInterval = TimeSpan.FromSeconds(1);

    private readonly string _cleanConnectionString;
    private bool _ownsMlflow;
    private readonly string? _algorithms;
    private readonly MlflowLink? _mlflowLink;
    private readonly double? _maxGroupAucDrop;

    private TrainerApp(string cleanConnectionString, MlflowServerDouble mlflow, bool ownsMlflow = true, string? algorithms = null, MlflowLink? mlflowLink = null,
        double? maxGroupAucDrop = null)
    {
        _cleanConnectionString = cleanConnectionString;
        Mlflow = mlflow;
        _ownsMlflow = ownsMlflow;
        _algorithms = algorithms;
        _mlflowLink = mlflowLink;
        _maxGroupAucDrop = maxGroupAucDrop;
    }

    public MlflowServerDouble Mlflow { get; }

    /// <summary>A client of the double, for reading what the trainer logged (through the trainer's own line to MLflow).</summary>
    public MlflowClient MlflowClient => Services.GetRequiredService<MlflowClient>();

    public string CleanConnectionString => _cleanConnectionString;

    /// <summary>This trainer as its job leases name it.</summary>
    public string LeaseOwner => Services.GetRequiredService<JobLeases>().Owner;

    public FakeLogCollector Logs => Services.GetRequiredService<FakeLogCollector>();

    /// <summary>The documented keys this trainer runs with, in their environment-variable form.</summary>
    public IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["ConnectionStrings__cleandata"] = _cleanConnectionString,
                ["services__mlflow__http__0"] = Mlflow.BaseAddress.ToString(),
                ["Training__LeaseDuration"] = LeaseDuration.ToString(),
                ["Training__LeaseRenewInterval"] = LeaseRenewInterval.ToString(),
                ["Training__Algorithms"] = _algorithms,
            };
            // Only when set: a key set to nothing reads as an empty string, which is no number.
            if (_maxGroupAucDrop is { } drop)
            {
                settings["Promotion__MaxGroupAucDrop"] = drop.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return settings;
        }
    }

    /// <summary>
    /// Starts with CLEAN DATA made of the dataset's first <paramref name="encounters"/> lines (none: an empty table), and
    /// the double as MLflow 3, accepting the Host headers <paramref name="mlflowAllowedHosts"/> (default: the server's).
    /// A <paramref name="mlflowLink"/> carries this trainer's calls to MLflow, and can be cut.
    /// </summary>
    public static async Task<TrainerApp> StartAsync(int encounters, int batchSize = 1_000, IReadOnlyList<string>? mlflowAllowedHosts = null,
        string? algorithms = null, MlflowLink? mlflowLink = null)
    {
        var connectionString = await TestServers.CreateDatabaseAsync("cleandata");
        await CleanDataSeeder.SeedAsync(connectionString, TestData.CsvLines.Take(encounters + 1), batchSize);
        return new TrainerApp(connectionString, await MlflowServerDouble.StartAsync(MlflowServerDouble.Mlflow3, mlflowAllowedHosts), algorithms: algorithms,
            mlflowLink: mlflowLink);
    }

    /// <summary>A trainer on a database as it is (empty, or not there at all), and a fresh MLflow double.</summary>
    public static async Task<TrainerApp> OnDatabaseAsync(string cleanConnectionString) =>
        new(cleanConnectionString, await MlflowServerDouble.StartAsync(MlflowServerDouble.Mlflow3));

    /// <summary>
    /// Another trainer process on the same CLEAN DATA and MLflow: the one that starts after this one stopped, or a
    /// second one running beside it (or one whose CLEAN DATA is elsewhere, or that allows another
    /// <c>Promotion__MaxGroupAucDrop</c>), with a line to MLflow of its own. The MLflow double goes with the new app,
    /// which disposes it.
    /// </summary>
    public TrainerApp Another(string? cleanConnectionString = null, double? maxGroupAucDrop = null)
    {
        var another = new TrainerApp(cleanConnectionString ?? _cleanConnectionString, Mlflow, _ownsMlflow, _algorithms, maxGroupAucDrop: maxGroupAucDrop ?? _maxGroupAucDrop);
        _ownsMlflow = false;
        return another;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        }

        builder.ConfigureLogging(logging => logging.AddFakeLogging(options =>
        {
            options.CollectRecordsForDisabledLogLevels = false;
            options.FilteredLevels = new HashSet<LogLevel> { LogLevel.Warning, LogLevel.Error, LogLevel.Critical };
        }));
        if (_mlflowLink is { } link)
        {
            builder.ConfigureTestServices(services => services.AddHttpClient(MlflowClientExtensions.ServiceName).AddHttpMessageHandler(link.CreateHandler));
        }
    }

    public Task<(TrainingJobResponse Job, Uri Location)> StartTrainingAsync() => StartTrainingAsync(CreateClient());

    /// <summary>Starts a job with <c>{"force": true}</c>: trained even over the CLEAN DATA of the newest version.</summary>
    public async Task<TrainingJobResponse> StartForcedTrainingAsync()
    {
        using var response = await CreateClient().PostAsJsonAsync("/api/trainings", new { force = true });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TrainingJobResponse>())!;
    }

    /// <summary>Polls the job until it ends.</summary>
    public Task<TrainingJobResponse> WaitForJobAsync(string id) => WaitForJobAsync(CreateClient(), id, job => job.Status != nameof(TrainingStatus.Running));

    /// <summary>Polls the job until <paramref name="condition"/> holds of it.</summary>
    public Task<TrainingJobResponse> WaitForJobAsync(string id, Func<TrainingJobResponse, bool> condition) => WaitForJobAsync(CreateClient(), id, condition);

    /// <summary>Starts a job through the trainer's API at <paramref name="client"/>'s address.</summary>
    public static async Task<(TrainingJobResponse Job, Uri Location)> StartTrainingAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/api/trainings", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<TrainingJobResponse>())!, response.Headers.Location!);
    }

    /// <summary>Polls the job through the trainer's API at <paramref name="client"/>'s address until <paramref name="condition"/> holds.</summary>
    public static Task<TrainingJobResponse> WaitForJobAsync(HttpClient client, string id, Func<TrainingJobResponse, bool> condition) =>
        Poll.UntilAsync(async () => (await client.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{id}"))!, condition,
            $"job {id} to get there", job => $"{job.Status} {job.Error}, {job.Progress}");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsMlflow)
        {
            await Mlflow.DisposeAsync();
        }
    }
}
