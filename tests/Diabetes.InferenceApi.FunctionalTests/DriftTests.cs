extern alias inference;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Monitoring;
using inference::Diabetes.InferenceApi.Serving;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Drift of the logged predictions against the served version's reference profile, on the real PostgreSQL: encounters
/// of the training population stay <c>ok</c>, an input moved reaches <c>alert</c> alone, with the index the profile gives.
/// </summary>
public class DriftTests
{
    /// <summary>
    /// One in eight of the encounters <see cref="TestModels"/> trains on: the population of the reference. (The file is in
    /// time order and its later lines come from other hospitals and codings: two thousand lines further on, 8 % of the
    /// discharge dispositions are codes the training lines hardly use. That is drift too, but not this test's.)
    /// </summary>
    internal static readonly IReadOnlyList<RawEncounter> Sample = TestEncounters.All.Take(8_000).Where((_, i) => i % 8 == 3).Select(e => e.Raw).ToArray();

    private static readonly string[] AgeBrackets = ["[0-10)", "[10-20)", "[20-30)", "[30-40)", "[40-50)", "[50-60)", "[60-70)", "[70-80)", "[80-90)", "[90-100)"];

    [Fact]
    public async Task EncountersOfTheTrainingPopulationStayOkAndAgesMovedTwoBracketsUpAlertOnAgeAlone()
    {
        // Arrange
        await using var unshifted = await ServingAsync();
        await using var shifted = await ServingAsync();
        var moved = Sample.Select(OlderByTwoBrackets).ToArray();

        // Act
        await PredictAndWaitForTheLogAsync(unshifted.App, unshifted.Database, Sample);
        await PredictAndWaitForTheLogAsync(shifted.App, shifted.Database, moved);
        var calm = await DriftAsync(unshifted.App);
        var drifted = await DriftAsync(shifted.App);

        // Assert: no input of the unshifted encounters reaches warn
        Assert.True(calm.Status == "ok", NotOk(calm));
        Assert.Equal(1_000L, calm.Rows);
        Assert.All(calm.Inputs, input => Assert.True(input.Status == "ok", $"{input.Input} ({input.Name}): PSI {input.Psi}"));
        Assert.Equal(50, calm.Inputs.Count);

        // Assert: the moved encounters alert on age, and only there, with the index the reference and their ages give
        Assert.Equal(("alert", "alert"), (drifted.Status, drifted.Inputs.Single(i => i.Input == nameof(ModelInput.AgeYears)).Status));
        Assert.All(drifted.Inputs.Where(i => i.Input != nameof(ModelInput.AgeYears)), input => Assert.Equal("ok", input.Status));
        var profile = shifted.App.Services.GetRequiredService<ServingState>().Model!.Reference!.Inputs.Single(i => i.Input == nameof(ModelInput.AgeYears));
        var actual = new long[profile.Bins.Count];
        foreach (var encounter in moved)
        {
            actual[profile.BinOf(InputOf(encounter).AgeYears)]++;
        }

        var age = drifted.Inputs.Single(i => i.Input == nameof(ModelInput.AgeYears));
        Assert.Equal("age", age.Name);
        Assert.Equal(PopulationStability.Index(profile.Bins.Select(b => b.Count).ToArray(), actual), age.Psi!.Value, 9);
        Assert.Equal(actual.Select(count => count / 1_000.0), age.Bins.Select(b => b.Actual));
        Assert.Equal(1.0, age.Bins.Sum(b => b.Expected), 9);
        Assert.NotNull(drifted.PositiveRate!.Actual);
    }

    [Fact]
    public async Task FewerPredictionsThanTheMinimumGiveInsufficientDataNeverAnAlarm()
    {
        await using var serving = await ServingAsync();
        await PredictAndWaitForTheLogAsync(serving.App, serving.Database, Sample.Take(100).Select(OlderByTwoBrackets).ToArray());

        var drift = await DriftAsync(serving.App);

        Assert.Equal((100L, "insufficient data"), (drift.Rows, drift.Status));
        Assert.Equal((500, 0.1, 0.25), (drift.MinimumRows, drift.PsiWarn, drift.PsiAlert));
        Assert.All(drift.Inputs, input => Assert.Equal("insufficient data", input.Status));
        Assert.Equal("insufficient data", drift.Score!.Status);
    }

    [Fact]
    public async Task AVersionWithoutAReferenceProfileAnswersNoReference()
    {
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings());
        var version = await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic, tamper: TestModels.WithoutReferenceProfile);
        await app.WaitForVersionAsync(version.Version);
        await PredictAndWaitForTheLogAsync(app, database, Sample.Take(10).ToArray());

        var drift = await DriftAsync(app);

        Assert.Equal((10L, "no reference"), (drift.Rows, drift.Status));
        Assert.Contains("reference_profile.json is not in the model folder", drift.Reason);
        Assert.Empty(drift.Inputs);
    }

    [Theory]
    [InlineData("drift?from=yesterday", "from")]
    [InlineData("drift?to=2026-13-01", "to")]
    [InlineData("drift?from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z", "from")]
    [InlineData("drift?from=2026-12-07T10:07:00Z&to=2026-12-07T10:05:00Z", "from")]
    [InlineData("drift?version=latest", "version")]
    [InlineData("drift?to=9999-12-31T23:59:59Z", "to")]
    [InlineData("traffic?from=yesterday", "from")]
    [InlineData("traffic?to=2026-13-01", "to")]
    [InlineData("traffic?from=2026-12-07T10:20:00Z&to=2026-12-07T10:10:00Z", "from")]
    [InlineData("traffic?from=1999-12-31T23:00:00Z", "from")]
    public async Task BadParametersOfTheMonitoringQueriesAreA400NamingTheField(string query, string field)
    {
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings());

        using var response = await app.CreateClient().GetAsync($"/api/monitoring/{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
    }

    [Fact]
    public async Task AVersionThatIsNotRegisteredIsA404()
    {
        await using var serving = await ServingAsync();

        using var response = await serving.App.CreateClient().GetAsync("/api/monitoring/drift?version=99");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Version 99", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
    }

    [Fact]
    public Task WithoutALogDriftIs503WithoutRetryAfterAndWithItsPostgresDown503WithRetryAfter() =>
        LogRefusals.AssertAsync("/api/monitoring/drift?version=1");

    internal sealed record Serving(InferenceApp App, MonitoringDatabase Database) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    /// <summary>An inference API with its log, serving the logistic regression (with its reference profile).</summary>
    internal static Task<Serving> ServingAsync() => ServingAsync(mlflow => TestModels.PublishAsync(mlflow, TestModels.Logistic));

    /// <summary>An inference API with its log in a fresh database, serving the version <paramref name="publish"/> registers.</summary>
    internal static async Task<Serving> ServingAsync(Func<MlflowClient, Task<ModelVersion>> publish)
    {
        var database = await MonitoringDatabase.CreateAsync();
        var app = await InferenceApp.StartAsync(settings: database.Settings());
        await app.WaitForVersionAsync((await publish(app.MlflowClient)).Version);
        return new Serving(app, database);
    }

    internal static async Task PredictAndWaitForTheLogAsync(InferenceApp app, MonitoringDatabase database, IReadOnlyList<RawEncounter> encounters)
    {
        foreach (var chunk in encounters.Chunk(500))
        {
            using var response = await app.PredictAsync(new JsonArray(chunk.Select(e => (JsonNode)TestEncounters.Request(e)).ToArray()), "/api/predictions/batch");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Poll.UntilAsync(async () => await database.CountAsync() == encounters.Count, $"the {encounters.Count} predictions to be logged");
    }

    private static async Task<DriftResponse> DriftAsync(InferenceApp app) =>
        (await app.CreateClient().GetFromJsonAsync<DriftResponse>("/api/monitoring/drift"))!;

    /// <summary>What is not ok in a drift answer, with the bins behind it.</summary>
    private static string NotOk(DriftResponse drift) => string.Join("; ",
        drift.Inputs.Select(i => (Input: i.Input, i.Psi, i.Status, i.Bins)).Append((Input: "Score", drift.Score!.Psi, drift.Score.Status, drift.Score.Bins))
            .Where(i => i.Status != "ok")
            .Select(i => $"{i.Input} {i.Status} PSI {i.Psi:F3}: {string.Join(", ", i.Bins.Select(b => $"{b.Label} {b.Expected:P1} → {b.Actual:P1}"))}"));

    internal static RawEncounter OlderByTwoBrackets(RawEncounter encounter)
    {
        var values = encounter.Values.ToArray();
        var age = EncounterSchema.Get("age").Ordinal;
        values[age] = AgeBrackets[Math.Min(Array.IndexOf(AgeBrackets, values[age]) + 2, AgeBrackets.Length - 1)];
        return new RawEncounter(values);
    }

    private static ModelInput InputOf(RawEncounter encounter) =>
        ModelInput.FromClean(((CleaningResult.Cleaned)EncounterCleaner.Clean(encounter)).Encounter);
}
