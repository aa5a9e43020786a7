using System.Globalization;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.InferenceApi.Monitoring;
using Diabetes.InferenceApi.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Diabetes.InferenceApi.Apis;

/// <summary>
/// Live quality of a model version: its logged predictions that have outcomes, scored as training scores a model
/// (<see cref="BinaryMetrics"/>), beside what MLflow holds of its validation and test.
/// </summary>
public static class PerformanceApi
{
    public const string Measured = "ok";
    public const string InsufficientData = "insufficient data";

    public const string NoTestRocAuc = "Whether ROC-AUC fell is not known: the version has no test ROC-AUC to compare with.";

    public static RouteGroupBuilder MapPerformanceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/monitoring").WithTags("Monitoring");

        api.MapGet("/performance", GetPerformanceAsync)
            .WithName("GetPerformance")
            .WithSummary("A version's live quality from the outcomes of its predictions (default: the served version), beside its validation and test metrics");

        return api;
    }

    public static async Task<Results<Ok<PerformanceResponse>, ValidationProblem, ProblemHttpResult>> GetPerformanceAsync(
        string? version, [FromServices] OutcomeStore? store, ServingState state, MlflowClient mlflow, IOptions<MonitoringOptions> options,
        HttpResponse response, CancellationToken cancellationToken)
    {
        if (!OutcomesApi.TryReadVersion(version, out var asked, out var error))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["version"] = [error] }, title: "The query is not valid");
        }

        int number;
        if (asked is { } given)
        {
            number = given;
        }
        else if (state.Model is { } served)
        {
            number = int.Parse(served.Version.Version, CultureInfo.InvariantCulture);
        }
        else
        {
            return PredictionsApi.NoModel(state, response);
        }

        if (store is null)
        {
            return OutcomesApi.NoLog();
        }

        var name = number.ToString(CultureInfo.InvariantCulture);
        var outcomes = await store.ReadAsync(ModelArtifacts.RegisteredModelName, number, cancellationToken);
        var notes = new List<string>();
        IReadOnlyDictionary<string, double> metrics;
        if (state.Model is { } model && model.Version.Version == name)
        {
            metrics = model.Metrics;
        }
        else
        {
            try
            {
                var registered = (await mlflow.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, name, cancellationToken)).ModelVersion;
                metrics = await mlflow.GetRunMetricsAsync(registered, cancellationToken);
            }
            catch (MlflowResourceNotFoundException) when (outcomes.Readmitted.Count == 0)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such version",
                    detail: $"{ModelArtifacts.RegisteredModelName} has no version {name} in MLflow, and no outcome of a prediction of it is logged.");
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Live figures do not need MLflow: they are answered, and the reference is said to be missing.
                metrics = new Dictionary<string, double>();
                notes.Add(exception is MlflowResourceNotFoundException
                    ? $"Version {name} is no longer in MLflow: no validation or test metrics to compare with."
                    : $"MLflow could not be asked for version {name}'s validation and test metrics: {exception.Message}");
            }
        }

        return TypedResults.Ok(Measure(name, outcomes, options.Value, metrics, notes));
    }

    private static PerformanceResponse Measure(
        string version, KnownOutcomes outcomes, MonitoringOptions settings, IReadOnlyDictionary<string, double> metrics, List<string> notes)
    {
        var (minimumOutcomes, aucDrop) = (settings.MinimumOutcomes, settings.AucDrop);
        var (probabilities, decisions, readmitted) = (outcomes.Probabilities, outcomes.Decisions, outcomes.Readmitted);
        var count = readmitted.Count;
        var validation = Prefixed(metrics, "val_");
        var test = Prefixed(metrics, "test_");
        if (count < minimumOutcomes)
        {
            notes.Add($"{count:N0} of the {minimumOutcomes:N0} outcomes needed for figures that do not swing with each new outcome (Monitoring:MinimumOutcomes).");
            return new PerformanceResponse(version, count, InsufficientData, minimumOutcomes, null, null, null, null, null, null, validation, test,
                aucDrop, null, notes);
        }

        var positives = readmitted.Count(r => r);
        var auc = BinaryMetrics.RocAucWithInterval(probabilities, readmitted);
        var confusion = ConfusionMatrix.Of(decisions, readmitted);
        var (tp, fp, fn) = (confusion.TruePositives, confusion.FalsePositives, confusion.FalseNegatives);
        if (positives == 0 || positives == count)
        {
            notes.Add($"ROC-AUC is undefined: {(positives == 0 ? "none" : "every one")} of the {count:N0} outcomes is a readmission, and it ranks readmissions against others.");
        }
        else if (double.IsNaN(auc.Low))
        {
            notes.Add("ROC-AUC has no interval: one class has a single outcome, and its spread cannot be estimated.");
        }

        if (positives == 0)
        {
            notes.Add("PR-AUC and recall are undefined: no outcome is a readmission.");
        }

        if (tp + fp == 0)
        {
            notes.Add("Precision is undefined: no prediction with an outcome was decided a readmission.");
        }

        bool? fell = null;
        if (!double.IsNaN(auc.Value))
        {
            if (test.TryGetValue("roc_auc", out var testAuc))
            {
                fell = auc.Value < testAuc - aucDrop;
            }
            else
            {
                notes.Add(NoTestRocAuc);
            }
        }

        return new PerformanceResponse(
            version, count, Measured, minimumOutcomes,
            double.IsNaN(auc.Value) ? null : new RocAucResponse(auc.Value, NullIfNaN(auc.Low), NullIfNaN(auc.High)),
            positives == 0 ? null : BinaryMetrics.AveragePrecision(probabilities, readmitted),
            BinaryMetrics.BrierScore(probabilities, readmitted),
            (double)(tp + fp) / count,
            tp + fp == 0 ? null : (double)tp / (tp + fp),
            tp + fn == 0 ? null : (double)tp / (tp + fn),
            validation, test, aucDrop, fell, notes);
    }

    /// <summary>The metrics named <paramref name="prefix"/>…, without it (<c>val_roc_auc</c> → <c>roc_auc</c>), by name.</summary>
    private static SortedDictionary<string, double> Prefixed(IReadOnlyDictionary<string, double> metrics, string prefix) =>
        new(metrics.Where(m => m.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(m => m.Key[prefix.Length..], m => m.Value), StringComparer.Ordinal);

    private static double? NullIfNaN(double value) => double.IsNaN(value) ? null : value;
}
