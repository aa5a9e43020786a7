extern alias inference;

using System.Net.Http.Json;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Apis;
using inference::Diabetes.InferenceApi.Monitoring;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// Predictions per hour and model version, and the share predicted readmitted, from the log on the real PostgreSQL,
/// against the same figures worked out here from the answers (each id carries its time).
/// </summary>
public class TrafficTests
{
    [Fact]
    public async Task PredictionsAreCountedPerHourAndVersionWithTheSharePredictedReadmitted()
    {
        // Arrange: a log, and a clock the test sets back
        var clock = new MovableClock();
        var database = await MonitoringDatabase.CreateAsync();
        await using var app = await InferenceApp.StartAsync(settings: database.Settings(), clock: clock);
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var empty = await TrafficAsync(app, "");

        // Act: version 1 answers 300 encounters three hours ago and 200 now, then version 2 answers 100
        clock.Offset = TimeSpan.FromHours(-3);
        var earlier = await OutcomeTests.PredictLoggedAsync(app, database, 300);
        clock.Offset = TimeSpan.Zero;
        var later = await OutcomeTests.PredictLoggedAsync(app, database, 200, skip: 10_300);
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree)).Version);
        var second = await OutcomeTests.PredictLoggedAsync(app, database, 100, skip: 10_500);
        var traffic = await TrafficAsync(app, "");

        // Assert: before any prediction, nothing; the default window is the 24 whole hours up to the current one's end
        Assert.Equal((0L, 0), (empty.Predictions, empty.Versions.Count));
        var now = DateTimeOffset.UtcNow;
        Assert.Equal((TimeSpan.FromHours(24), 0, 0), (traffic.To - traffic.From, traffic.To.Minute, traffic.To.Second));
        Assert.InRange(traffic.To - now, TimeSpan.FromHours(-1), TimeSpan.FromHours(1));

        // Assert: per version and hour, the answers counted and their decisions' share
        Assert.Equal(600L, traffic.Predictions);
        Assert.Equal(Expected([.. earlier, .. later, .. second]), Figures(traffic));
        Assert.True(traffic.Versions[0].Hours.Count >= 2, "version 1's predictions of three hours ago are not in an hour of their own");

        // Act: a window within the hour of three hours ago, not on whole hours
        var hour = HourOf(earlier[0]);
        var within = await TrafficAsync(app, $"?from={Uri.EscapeDataString($"{hour.AddMinutes(10):O}")}&to={Uri.EscapeDataString($"{hour.AddMinutes(50):O}")}");

        // Assert: that whole hour, and only version 1's predictions in it
        Assert.Equal((hour, hour.AddHours(1)), (within.From, within.To));
        Assert.Equal(Expected([.. earlier.Concat(later).Where(p => HourOf(p) == hour)]), Figures(within));
    }

    [Fact]
    public Task WithoutALogTrafficIs503WithoutRetryAfterAndWithItsPostgresDown503WithRetryAfter() =>
        LogRefusals.AssertAsync("/api/monitoring/traffic");

    private static async Task<TrafficResponse> TrafficAsync(InferenceApp app, string query) =>
        (await app.CreateClient().GetFromJsonAsync<TrafficResponse>($"/api/monitoring/traffic{query}"))!;

    private static DateTimeOffset HourOf(PredictionResponse prediction) =>
        DriftCounts.StartOf(PredictionIds.TimeOf(prediction.PredictionId), TrafficApi.Hour);

    /// <summary>Per version, by number, its count and share predicted readmitted, and the same per hour.</summary>
    private static string[] Expected(IReadOnlyList<PredictionResponse> answers) =>
    [
        .. answers.GroupBy(a => int.Parse(a.Model.Version)).OrderBy(v => v.Key).SelectMany(version => version
            .GroupBy(HourOf).OrderBy(h => h.Key).Select(h => Line(version.Key.ToString(), h.Key, h.Count(), Share(h)))
            .Prepend(Line(version.Key.ToString(), null, version.Count(), Share(version)))),
    ];

    private static string[] Figures(TrafficResponse traffic) =>
    [
        .. traffic.Versions.SelectMany(version => version.Hours.Select(h => Line(version.Version, h.Start, h.Predictions, h.PositiveRate))
            .Prepend(Line(version.Version, null, version.Predictions, version.PositiveRate))),
    ];

    private static double Share(IEnumerable<PredictionResponse> answers) => answers.Average(a => a.ReadmittedWithin30Days ? 1.0 : 0.0);

    private static string Line(string version, DateTimeOffset? hour, long predictions, double share) =>
        $"version {version} {hour?.ToString("O") ?? "in all"}: {predictions} predictions, {share:F12} predicted readmitted";

    /// <summary>The system's clock, moved by <see cref="Offset"/>: predictions answered now are logged at another hour.</summary>
    private sealed class MovableClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
