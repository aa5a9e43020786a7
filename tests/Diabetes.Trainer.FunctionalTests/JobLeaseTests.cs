extern alias ingest;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Diabetes.Core.Data;
using Diabetes.Core.Mlflow;
using Diabetes.Testing;
using Diabetes.Trainer.Data;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>
/// A running job belongs to the trainer that holds its lease in PostgreSQL: cut off from MLflow it keeps the job; dead,
/// it loses the job to exactly one other trainer once the lease expires. The lease table is the trainer's own
/// migration, beside the ingest service's in the same database.
/// </summary>
public class JobLeaseTests
{
    private const string RunsSearch = "/api/2.0/mlflow/runs/search";
    private const string RunsUpdate = "/api/2.0/mlflow/runs/update";

    [Fact]
    public async Task ATrainerCutOffFromMlflowKeepsItsJobAndRegistersOneVersionOnceReconnected()
    {
        // Arrange: two trainers on the same CLEAN DATA and MLflow; the first, whose line to MLflow can be cut, runs a job
        var link = new MlflowLink();
        await using var first = await TrainerApp.StartAsync(encounters: 4_000, algorithms: "LbfgsLogisticRegression,FastTree", mlflowLink: link);
        await using var second = first.Another();
        var secondClient = second.CreateClient();
        var (started, _) = await first.StartTrainingAsync();
        var parentRunId = (await first.WaitForJobAsync(started.Id, job => job.ParentRunId is not null)).ParentRunId!;

        // Act: the first is cut off from MLflow while its job runs: the job waits on MLflow for longer than three
        // renewal intervals, and the second looks for interrupted jobs at least five times meanwhile (the first's
        // calls are held, so every search MLflow answers now is the second's)
        link.Cut();
        await Poll.UntilAsync(() => link.HeldCalls > 0, "the job waits on MLflow");
        var heldFor = Stopwatch.StartNew();
        var searchesBefore = first.Mlflow.Requests(RunsSearch).Length;
        var leaseAtCut = await LeaseAsync(first.CleanConnectionString, started.Id);
        await Poll.UntilAsync(async () => first.Mlflow.Requests(RunsSearch).Length > searchesBefore + 5 && heldFor.Elapsed > 3 * TrainerApp.LeaseRenewInterval
                && (await LeaseAsync(first.CleanConnectionString, started.Id)).ExpiresAt > leaseAtCut.ExpiresAt,
            "the second trainer looks for interrupted jobs five times, and the first renews its lease, while it is cut off");
        var leaseWhileCut = await LeaseAsync(first.CleanConnectionString, started.Id);
        var parentWhileCut = (await second.MlflowClient.Api.GetRunAsync(parentRunId, CancellationToken.None)).Run;
        var seenBySecond = (await secondClient.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!;
        link.Mend();
        var finished = await first.WaitForJobAsync(started.Id);

        // Assert: while cut off, the job stayed the first's, renewed, and RUNNING for everyone
        Assert.Equal((first.LeaseOwner, true, false, null), (leaseWhileCut.Owner, leaseWhileCut.Unexpired, leaseWhileCut.Ended, leaseWhileCut.TakenOverFrom));
        Assert.True(leaseWhileCut.ExpiresAt > leaseAtCut.ExpiresAt, "the lease was not renewed while the trainer was cut off from MLflow");
        Assert.Equal(MlflowNames.Running, parentWhileCut.Info.Status);
        Assert.Equal(nameof(TrainingStatus.Running), seenBySecond.Status);

        // Reconnected, it finished: one version, registered by the first, every run FINISHED, the lease ended as the first's
        Assert.True(finished.Status == nameof(TrainingStatus.Succeeded), finished.Error);
        var version = Assert.Single(await VersionsAsync(second));
        Assert.Equal((finished.RegisteredVersion, finished.BestRunId), (version.Version, version.RunId));
        var runs = await second.MlflowClient.SearchRunsAsync(TrainingWorkflow.ExperimentName, $"tags.`{TrainingWorkflow.JobTag}` = '{started.Id}'", CancellationToken.None);
        Assert.All(runs, r => Assert.Equal((MlflowNames.Finished, null), (r.Info.Status, r.Data!.Tag(TrainingWorkflow.ErrorTag))));
        var lease = await LeaseAsync(first.CleanConnectionString, started.Id);
        Assert.Equal((first.LeaseOwner, true, null), (lease.Owner, lease.Ended, lease.TakenOverFrom));
        Assert.DoesNotContain(second.Logs.GetSnapshot(), r => r.Message.Contains("Took over", StringComparison.Ordinal));
        Assert.Equal(nameof(TrainingStatus.Succeeded), (await secondClient.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!.Status);
    }

    [Fact]
    public async Task AJobWhoseTrainerDiedIsTakenOverByExactlyOneOtherTrainerOnceItsLeaseExpires()
    {
        // Arrange: two trainers look for interrupted jobs every second; a third, in a process of its own, runs a job
        await using var second = await TrainerApp.StartAsync(encounters: 6_000, algorithms: "LbfgsLogisticRegression,FastTree");
        await using var third = second.Another();
        var secondClient = second.CreateClient();
        _ = third.CreateClient();
        await using var first = await TrainerProcess.StartAsync(second.Settings);
        var (started, _) = await TrainerApp.StartTrainingAsync(first.Client);
        var underWay = await TrainerApp.WaitForJobAsync(first.Client, started.Id,
            job => job.Progress.CompletedCandidates >= 1 || job.Status != nameof(TrainingStatus.Running));
        Assert.True(underWay.Status == nameof(TrainingStatus.Running), $"{underWay.Error}\n{first.Output}");

        // Act: the first dies mid-job, letting go of nothing
        await first.KillAsync();
        var leaseAtDeath = await LeaseAsync(second.CleanConnectionString, started.Id);
        await Poll.UntilAsync(async () => (await LeaseAsync(second.CleanConnectionString, started.Id)).Ended, "the job is taken over and ended");
        var runs = await second.MlflowClient.SearchRunsAsync(TrainingWorkflow.ExperimentName, $"tags.`{TrainingWorkflow.JobTag}` = '{started.Id}'", CancellationToken.None);
        var answer = (await secondClient.GetFromJsonAsync<TrainingJobResponse>($"/api/trainings/{started.Id}"))!;

        // Assert: the dead trainer held the job to the end; then one of the others took it over, once
        Assert.False(leaseAtDeath.Ended);
        Assert.DoesNotContain(leaseAtDeath.Owner, new[] { second.LeaseOwner, third.LeaseOwner });
        var lease = await LeaseAsync(second.CleanConnectionString, started.Id);
        Assert.Contains(lease.Owner, new[] { second.LeaseOwner, third.LeaseOwner });
        Assert.Equal(leaseAtDeath.Owner, lease.TakenOverFrom);
        var takeovers = second.Logs.GetSnapshot().Concat(third.Logs.GetSnapshot()).Where(r => r.Message.StartsWith($"Took over training job {started.Id}", StringComparison.Ordinal));
        Assert.Single(takeovers);

        // Its parent run and the candidate cut short are FAILED with why, each marked once and only after the lease
        // expired; the candidates that finished stay FINISHED; nothing is registered
        var failed = runs.Where(r => r.Info.Status == MlflowNames.Failed).ToArray();
        Assert.Contains(failed, r => r.Info.RunId == answer.ParentRunId);
        Assert.All(runs.Except(failed), r => Assert.Equal(MlflowNames.Finished, r.Info.Status));
        Assert.All(failed, r => Assert.Equal(TrainingJobHistory.StoppedReason, r.Data!.Tag(TrainingWorkflow.ErrorTag)));
        Assert.Equal(failed.Length, second.Mlflow.Requests(RunsUpdate).Count(r => r.At > leaseAtDeath.ExpiresAt));
        Assert.Empty(await VersionsAsync(second));
        Assert.Equal((nameof(TrainingStatus.Failed), TrainingJobHistory.StoppedReason), (answer.Status, answer.Error));
    }

    [Fact]
    public async Task WithPostgresDownTheTrainerKeepsRunningTriesAgainAndSaysWhyInHealth()
    {
        // Arrange: a trainer whose CLEAN DATA server does not answer
        await using var app = await TrainerApp.OnDatabaseAsync("Host=127.0.0.1;Port=9;Username=postgres;Database=cleandata;Timeout=2");
        var client = app.CreateClient();

        // Act
        await Poll.UntilAsync(() => app.Logs.GetSnapshot().Any(r => r.Message.StartsWith("Could not migrate the job lease table", StringComparison.Ordinal)),
            "the failed migration is logged");
        using var health = await client.GetAsync("/health");
        using var alive = await client.GetAsync("/alive");
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "job-leases");
        var (started, _) = await app.StartTrainingAsync();
        var job = await app.WaitForJobAsync(started.Id);

        // Assert: the log says it tries again, /health says why, the process lives on, and a job says why it cannot start
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Message.StartsWith("Could not migrate the job lease table", StringComparison.Ordinal)
            && r.Message.Contains("trying again in", StringComparison.Ordinal));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK), (health.StatusCode, alive.StatusCode));
        var leases = report.Entries["job-leases"];
        Assert.Equal(HealthStatus.Unhealthy, leases.Status);
        Assert.Contains("The job lease table in CLEAN DATA's PostgreSQL is not ready", leases.Description);
        Assert.Equal(nameof(TrainingStatus.Failed), job.Status);
        Assert.StartsWith("The job could not take its lease in CLEAN DATA's PostgreSQL", job.Error);
    }

    [Theory]
    [InlineData("trainer")]
    [InlineData("ingest")]
    [InlineData("both at once")]
    public async Task TheTrainerAndTheIngestServiceMigrateOneEmptyDatabaseWhicheverStartsFirst(string first)
    {
        // Arrange: an empty CLEAN DATA database, the trainer and the ingest service on it
        var clean = await TestServers.CreateDatabaseAsync("cleandata");
        await using var trainer = await TrainerApp.OnDatabaseAsync(clean);
        await using var ingest = new IngestApp(await TestServers.CreateDatabaseAsync("rawdata"), clean);
        Task MigrateTrainer() => trainer.Services.GetRequiredService<TrainerSchema>().EnsureCreatedAsync(CancellationToken.None);
        Task MigrateIngest() => ingest.CreateClient().GetFromJsonAsync<object>("/api/dataset/status");

        // Act
        switch (first)
        {
            case "trainer":
                await MigrateTrainer();
                await MigrateIngest();
                break;
            case "ingest":
                await MigrateIngest();
                await MigrateTrainer();
                break;
            default:
                await Task.WhenAll(MigrateTrainer(), MigrateIngest());
                break;
        }

        // Assert: each history holds its own migrations only, and both services' tables are there
        await using var database = NpgsqlDataSource.Create(clean);
        await using var connection = await database.OpenConnectionAsync();
        Assert.Equal("20261210000001_TrainingJobLeases",
            await connection.ScalarAsync<string>($"""SELECT string_agg("MigrationId", ',') FROM "{TrainerDataContext.HistoryTable}" """, CancellationToken.None));
        Assert.Equal("20261203000001_CleanDataBaseline",
            await connection.ScalarAsync<string>("""SELECT string_agg("MigrationId", ',') FROM "__EFMigrationsHistory" """, CancellationToken.None));
        Assert.True(await connection.ScalarAsync<bool>(
            $"SELECT to_regclass('training_job_leases') IS NOT NULL AND to_regclass('{CleanEncounterTable.Name}') IS NOT NULL", CancellationToken.None));
    }

    /// <summary>The ingest service on an empty RAW DATA database and the CLEAN DATA one given.</summary>
    private sealed class IngestApp(string rawConnectionString, string cleanConnectionString) : WebApplicationFactory<ingest::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:rawdata", rawConnectionString);
            builder.UseSetting("ConnectionStrings:cleandata", cleanConnectionString);
            builder.UseSetting("ConnectionStrings:minio", TestServers.S3ConnectionString);
            builder.UseSetting("Dataset:Source", TestData.DatasetZip);
        }
    }

    /// <summary>A job's lease as PostgreSQL has it.</summary>
    private sealed record Lease(string Owner, bool Unexpired, bool Ended, string? TakenOverFrom, DateTimeOffset ExpiresAt);

    private static async Task<Lease> LeaseAsync(string connectionString, string jobId)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand(
            "SELECT owner, expires_at > now(), ended_at IS NOT NULL, taken_over_from, expires_at FROM training_job_leases WHERE job_id = @job", ("job", jobId));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"Job {jobId} has no lease.");
        return new Lease(reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetFieldValue<DateTimeOffset>(4));
    }

    private static async Task<IReadOnlyList<ModelVersion>> VersionsAsync(TrainerApp app) =>
        (await app.MlflowClient.Api.SearchModelVersionsAsync($"name='{TrainingWorkflow.ModelName}'", null, CancellationToken.None)).ModelVersions ?? [];
}
