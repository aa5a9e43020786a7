using Diabetes.Core.Data;
using Diabetes.Core.Modeling;
using Diabetes.InferenceApi.Data;
using Diabetes.InferenceApi.Monitoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// The traffic of the prediction log: per hour and model version, how many predictions were answered and the share of
/// them predicted readmitted, read from the decisions' drift counts (<see cref="DriftCounts"/>), not from the rows.
/// </summary>
public static class TrafficApi
{
    public static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public static RouteGroupBuilder MapTrafficApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/monitoring").WithTags("Monitoring");
        api.MapGet("/traffic", GetTrafficAsync)
            .WithName("GetTraffic")
            .WithSummary("Predictions logged per hour and model version, and the share of them predicted readmitted");
        return api;
    }

    /// <param name="from">Start of the window (ISO 8601), down to its hour; default: 24 h before the window's end.</param>
    /// <param name="to">End of the window (ISO 8601), up to the next whole hour; default: now.</param>
    public static async Task<Results<Ok<TrafficResponse>, ValidationProblem, ProblemHttpResult>> GetTrafficAsync(
        string? from, string? to, [FromServices] NpgsqlDataSource? dataSource, [FromServices] DatabaseSchema<MonitoringDataContext>? schema,
        TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (start, end) = DriftApi.ReadWindow(from, to, Hour, timeProvider, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The traffic query has invalid parameters");
        }

        if (dataSource is null)
        {
            return OutcomesApi.NoLog();
        }

        await schema!.EnsureCreatedAsync(cancellationToken);
        var hours = await DriftCounts.ReadDecisionsPerHourAsync(dataSource, ModelArtifacts.RegisteredModelName, start, end, cancellationToken);
        var versions = hours.GroupBy(hour => hour.ModelVersion).Select(version =>
        {
            var (predictions, readmitted) = (version.Sum(h => h.Predictions), version.Sum(h => h.PredictedReadmitted));
            return new VersionTraffic(
                version.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), predictions, (double)readmitted / predictions,
                [.. version.Select(h => new TrafficHour(h.Hour, h.Predictions, (double)h.PredictedReadmitted / h.Predictions))]);
        }).ToArray();
        return TypedResults.Ok(new TrafficResponse(start, end, versions.Sum(v => v.Predictions), versions));
    }
}

/// <summary>One hour of a version's traffic: the predictions answered in it and the share of them predicted readmitted.</summary>
public sealed record TrafficHour(DateTimeOffset Start, long Predictions, double PositiveRate);

/// <summary>A version's traffic in the window: in all, and per hour that has predictions (the others are left out), in time order.</summary>
public sealed record VersionTraffic(string Version, long Predictions, double PositiveRate, IReadOnlyList<TrafficHour> Hours);

/// <summary>
/// Answer of <c>GET /api/monitoring/traffic</c>: the window, whole hours [<c>from</c>, <c>to</c>) in UTC; the predictions
/// logged in it; and the versions that answered any, by number.
/// </summary>
public sealed record TrafficResponse(DateTimeOffset From, DateTimeOffset To, long Predictions, IReadOnlyList<VersionTraffic> Versions);
