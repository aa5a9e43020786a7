using Diabetes.Core.Mlflow;
using Diabetes.Web.Clients;

namespace Diabetes.Web.Pages;

/// <summary>A plot the trainer logs for a job's chosen model: <c>plots/{File}.png</c> in its run.</summary>
public sealed record PlotFile(string File, string Title)
{
    public string Path => $"{VersionPlots.Folder}/{File}.png";
}

/// <summary>
/// The plots a version's run holds, as its pages show them (<c>_Plots</c>), or why they cannot be listed: only those
/// there, so that a version trained before a plot existed shows no broken image.
/// </summary>
public sealed record VersionPlots(string Version, IReadOnlyList<PlotFile> Plots, string? Problem)
{
    public const string Folder = "plots";

    /// <summary>Every plot the trainer logs, in the order the pages show them; the only files the plot handler serves.</summary>
    public static readonly IReadOnlyList<PlotFile> Known =
    [
        new("roc_curve", "ROC curve (test set)"),
        new("precision_recall_curve", "Precision and recall (test set)"),
        new("confusion_matrix", "Confusion matrix (test set, at the model's threshold)"),
        new("feature_importance", "Feature importance (validation set)"),
        new("slices_roc_auc", "ROC-AUC per patient group"),
    ];

    /// <summary>The known plots this run does not have.</summary>
    public IEnumerable<PlotFile> Absent => Problem is null ? Known.Except(Plots) : [];

    /// <summary>Lists the run's <c>plots/</c> folder (one call); a listing that fails is said, not thrown.</summary>
    public static async Task<VersionPlots> ListAsync(MlflowClient mlflow, string version, string runId, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var files = (await mlflow.Api.ListArtifactsAsync(runId, Folder, cancellationToken)).Files ?? [];
            return new VersionPlots(version, [.. Known.Where(plot => files.Any(file => !file.IsDir && file.Path == plot.Path))], null);
        }
        catch (Exception exception) when (ServiceFaults.IsMlflowFault(exception))
        {
            logger.LogWarning(exception, "The plots of version {Version} cannot be listed", version);
            return new VersionPlots(version, [],
                $"The plots of version {version} cannot be listed right now: MLflow or its artifact store did not answer. Try again shortly.");
        }
    }
}
