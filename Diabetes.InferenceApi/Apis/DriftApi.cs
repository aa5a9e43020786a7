using System.Globalization;
using Diabetes.Core.Modeling;
using Diabetes.InferenceApi.Monitoring;
using Diabetes.InferenceApi.Serving;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Diabetes.InferenceApi.Apis;

public static class DriftApi
{
    /// <summary>The window when none is given: the last day.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    public static RouteGroupBuilder MapDriftApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/monitoring").WithTags("Monitoring");
        api.MapGet("/drift", GetDriftAsync)
            .WithName("GetDrift")
            .WithSummary("Drift of a version's predictions against its training data: PSI per input and of the score, the share predicted positive");
        return api;
    }

    /// <param name="from">Start of the window (ISO 8601), down to its ten minutes; default: 24 h before the window's end.</param>
    /// <param name="to">End of the window (ISO 8601), up to the next ten minutes; default: now.</param>
    /// <param name="version">The model version; default: the one served.</param>
    public static async Task<Results<Ok<DriftResponse>, ValidationProblem, ProblemHttpResult>> GetDriftAsync(
        string? from, string? to, string? version, DriftReport drift, ServingState state, TimeProvider timeProvider,
        HttpResponse response, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (start, end) = ReadWindow(from, to, DriftCounts.Bucket, timeProvider, errors);
        if (!OutcomesApi.TryReadVersion(version, out var number, out var versionError))
        {
            errors["version"] = [versionError];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The drift query has invalid parameters");
        }

        if (drift.DataSource is null)
        {
            return OutcomesApi.NoLog();
        }

        if ((number?.ToString(CultureInfo.InvariantCulture) ?? state.Model?.Version.Version) is not { } chosen)
        {
            return PredictionsApi.NoModel(state, response);
        }

        return await drift.ComputeAsync(ModelArtifacts.RegisteredModelName, chosen, start, end, cancellationToken) is { } answer
            ? TypedResults.Ok(answer)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such version",
                detail: $"Version {chosen} of {ModelArtifacts.RegisteredModelName} is not registered in MLflow.");
    }

    /// <summary>
    /// The window of a monitoring query in whole spans of <paramref name="unit"/>: <paramref name="from"/> rounded down
    /// and <paramref name="to"/> (default: now) rounded up; without <paramref name="from"/>, the
    /// <see cref="DefaultWindow"/> up to that end. What is wrong (a time that is not one, <paramref name="from"/> not
    /// before <paramref name="to"/>) goes into <paramref name="errors"/> under the parameter's name.
    /// </summary>
    internal static (DateTimeOffset From, DateTimeOffset To) ReadWindow(
        string? from, string? to, TimeSpan unit, TimeProvider timeProvider, Dictionary<string, string[]> errors)
    {
        var end = ParseTime(to, "to", errors) ?? timeProvider.GetUtcNow();
        var start = ParseTime(from, "from", errors);
        if (errors.Count == 0 && start >= end)
        {
            errors["from"] = [$"must be before to ({end:O})"];
        }

        var window = DriftCounts.StartAtOrAfter(end, unit);
        return (start is { } given ? DriftCounts.StartOf(given, unit) : window - DefaultWindow, window);
    }

    private static DateTimeOffset? ParseTime(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            // Inside the years the log can hold, with room for the default window and whole buckets on either side.
            if (time.Year is >= 2000 and < 9000)
            {
                return time;
            }

            errors[name] = [$"'{value}' is outside the years 2000 to 8999"];
            return null;
        }

        errors[name] = [$"'{value}' is not a time (ISO 8601, for example 2026-12-07T10:00:00Z)"];
        return null;
    }
}
