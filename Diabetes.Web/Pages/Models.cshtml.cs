using System.Globalization;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Web.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Diabetes.Web.Pages;

/// <summary>A registered version with the metrics of its run and what promotion decided about it.</summary>
public sealed record VersionRow(ModelVersion Version, IReadOnlyDictionary<string, double> Metrics)
{
    public string? Decision => Version.Tag(PromotionTags.Decision);
    public string? Reason => Version.Tag(PromotionTags.Reason);
    public string? DecidedAt => Version.Tag(PromotionTags.At);
    public double? Metric(string key) => Metrics.TryGetValue(key, out var value) ? value : null;

    /// <summary>A metric as the pages write it (four decimals), or a dash when the run has none.</summary>
    public string MetricText(string key) => Metric(key)?.ToString("F4", CultureInfo.InvariantCulture) ?? "–";
}

/// <summary>Every registered version, which one holds Production and since when, and the Production model's plots; each links to its own page.</summary>
public sealed class ModelsModel(MlflowClient mlflow, ILogger<ModelsModel> logger) : PageModel
{
    public static readonly IReadOnlyList<string> MetricColumns = ["val_roc_auc", "val_pr_auc", "val_f1", "test_roc_auc", "test_pr_auc", "test_f1"];

    public IReadOnlyList<VersionRow> Versions { get; private set; } = [];

    public VersionRow? Production { get; private set; }

    /// <summary>Whether Production is held by alias too (the stage alone is the older way).</summary>
    public bool ProductionHasAlias { get; private set; }

    /// <summary>The plots of the Production version's run.</summary>
    public VersionPlots? ProductionPlots { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            var versions = (await mlflow.Api.SearchModelVersionsAsync($"name='{ModelArtifacts.RegisteredModelName}'", null, cancellationToken)).ModelVersions ?? [];
            var rows = new List<VersionRow>();
            foreach (var version in versions.OrderByDescending(v => long.Parse(v.Version, CultureInfo.InvariantCulture)))
            {
                rows.Add(new VersionRow(version, await mlflow.GetRunMetricsAsync(version, cancellationToken)));
            }

            Versions = rows;
            var production = await mlflow.GetProductionVersionAsync(ModelArtifacts.RegisteredModelName, cancellationToken);
            Production = rows.FirstOrDefault(r => r.Version.Version == production?.Version);
            ProductionHasAlias = production?.Aliases?.Contains(MlflowClient.ProductionAlias) == true;
            if (Production?.Version.RunId is { } runId)
            {
                ProductionPlots = await VersionPlots.ListAsync(mlflow, Production.Version.Version, runId, logger, cancellationToken);
            }
        }
        catch (Exception exception) when (ServiceFaults.IsMlflowFault(exception))
        {
            logger.LogWarning(exception, "MLflow cannot be read");
            Problem = "MLflow cannot be reached right now, so the registered models cannot be listed. Try again shortly.";
        }
    }

    /// <summary>One plot of a version's run, read from MLflow's artifacts: 404 when there is none, 503 when MLflow is down.</summary>
    public async Task<IActionResult> OnGetPlotAsync(string version, string plot, CancellationToken cancellationToken)
    {
        if (VersionPlots.Known.FirstOrDefault(p => p.File == plot) is not { } known)
        {
            return NotFound();
        }

        try
        {
            var found = (await mlflow.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, version, cancellationToken)).ModelVersion;
            if (found.RunId is null)
            {
                return NotFound();
            }

            // A plot never drawn (the trainer draws the test plots only when the test set has both outcomes) is not found.
            var run = (await mlflow.Api.GetRunAsync(found.RunId, cancellationToken)).Run;
            return await mlflow.FindArtifactAsync(run.Info.ArtifactUri, known.Path, cancellationToken) is { } png
                ? File(png, "image/png")
                : NotFound();
        }
        catch (Exception exception) when (exception is MlflowResourceNotFoundException or MlflowInvalidParameterException)
        {
            // A version or run that is not there, or a version number that is not one.
            logger.LogInformation("No plot {Plot} for version {Version}: {Error}", plot, version, exception.Message);
            return NotFound();
        }
        catch (Exception exception) when (ServiceFaults.IsMlflowFault(exception))
        {
            logger.LogWarning(exception, "MLflow or its store cannot give plot {Plot} of version {Version}", plot, version);
            return StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
    }
}
