using System.Globalization;
using System.Text;
using System.Text.Json;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Web.Cards;
using Diabetes.Web.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Diabetes.Web.Pages;

/// <summary>A file of a version's run as the page got it: its content, or why it cannot be read, or neither (the run has no such file).</summary>
public sealed record RunFile<T>(T? Content, string? Problem) where T : class;

/// <summary>
/// One registered version: what the registry says of it (stage, aliases, promotion), its model card, its figures per
/// patient group (<c>slices.json</c>) and its plots. MLflow is asked in three steps: the version, its run, then the
/// card, the groups and the plot listing at once. Each part says why it is empty; an unknown version is a 404 page.
/// </summary>
public sealed class ModelVersionModel(MlflowClient mlflow, ILogger<ModelVersionModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Version { get; set; } = "";

    /// <summary>The version and its run's metrics; null when it is unknown or MLflow cannot be reached.</summary>
    public VersionRow? Row { get; private set; }

    /// <summary>No such version is registered (the page answers 404).</summary>
    public bool Unknown { get; private set; }

    /// <summary>Why nothing can be shown: MLflow cannot be reached.</summary>
    public string? Problem { get; private set; }

    /// <summary>Why the run's files cannot be shown, although the version is known: no run, a run gone, a store not configured.</summary>
    public string? RunProblem { get; private set; }

    /// <summary>The model card rendered as HTML.</summary>
    public RunFile<string>? Card { get; private set; }

    public RunFile<ModelSlices>? Slices { get; private set; }

    public VersionPlots? Plots { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            ModelVersion version;
            try
            {
                version = (await mlflow.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, Version, cancellationToken)).ModelVersion;
            }
            catch (Exception exception) when (exception is MlflowResourceNotFoundException or MlflowInvalidParameterException)
            {
                // No such version, or a version "number" that is not one.
                Unknown = true;
                Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await ReadRunAsync(version, cancellationToken);
        }
        catch (Exception exception) when (ServiceFaults.IsMlflowFault(exception))
        {
            logger.LogWarning(exception, "MLflow cannot be read for version {Version}", Version);
            Problem = $"MLflow cannot be reached right now, so version {Version} cannot be shown. Try again shortly.";
        }
    }

    private async Task ReadRunAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        Row = new VersionRow(version, new Dictionary<string, double>());
        if (version.RunId is null)
        {
            RunProblem = $"Version {Version} was registered without a run, so it has no model card, group table or plots.";
            return;
        }

        Run run;
        try
        {
            run = (await mlflow.Api.GetRunAsync(version.RunId, cancellationToken)).Run;
        }
        catch (MlflowResourceNotFoundException)
        {
            RunProblem = $"The run of version {Version} ({version.RunId}) is no longer in MLflow: its model card, group table and plots went with it.";
            return;
        }
        catch (MlflowInvalidParameterException)
        {
            // The version names a run id MLflow does not accept: no such run can be read.
            RunProblem = $"The run of version {Version} ({version.RunId}) is not a run id MLflow accepts, so it has no model card, group table or plots to show.";
            return;
        }

        Row = Row with { Metrics = run.Data?.Metrics?.ToDictionary(m => m.Key, m => m.Value) ?? new Dictionary<string, double>() };
        if (mlflow.WhyUnreadable(run.Info.ArtifactUri) is { } why)
        {
            RunProblem = $"The model card, group table and plots of version {Version} cannot be read by the web site: {why}";
            return;
        }

        var card = ReadFileAsync(run.Info, ModelArtifacts.ModelCardFile, "The model card",
            content => ModelCardHtml.Render(Encoding.UTF8.GetString(content)), cancellationToken);
        var slices = ReadFileAsync(run.Info, ModelSlices.FileName, "The group table", ModelSlices.Parse, cancellationToken);
        var plots = VersionPlots.ListAsync(mlflow, Version, run.Info.RunId, logger, cancellationToken);
        await Task.WhenAll(card, slices, plots);
        (Card, Slices, Plots) = (await card, await slices, await plots);
    }

    private async Task<RunFile<T>> ReadFileAsync<T>(RunInfo run, string path, string what, Func<byte[], T> read, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return new RunFile<T>(await mlflow.FindArtifactAsync(run.ArtifactUri, path, cancellationToken) is { } content ? read(content) : null, null);
        }
        catch (Exception exception) when (ServiceFaults.IsMlflowFault(exception))
        {
            logger.LogWarning(exception, "{File} of version {Version} cannot be read", path, Version);
            return new RunFile<T>(null, $"{what} of version {Version} cannot be read right now: MLflow or its artifact store did not answer. Try again shortly.");
        }
        catch (JsonException exception)
        {
            logger.LogWarning(exception, "{File} of version {Version} is not valid", path, Version);
            return new RunFile<T>(null, $"{what} of version {Version} cannot be shown: {path} in its run is not valid ({exception.Message}).");
        }
    }

    // How the header and the group table write their figures.

    /// <summary>The decision threshold to four decimals, as the model card writes it.</summary>
    public static string Threshold(double threshold) => threshold.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>The split as a heading: "Validation", "Test".</summary>
    public static string SplitName(SplitSlices split) => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(split.Split);

    /// <summary>The group as the table names it: "Race: Caucasian", "Age: 70 and over".</summary>
    public static string GroupName(GroupMetrics group) => $"{CultureInfo.InvariantCulture.TextInfo.ToTitleCase(group.Attribute)}: {group.Group}";

    /// <summary>ROC-AUC with its 95 % interval: 0.712 [0.650, 0.774] (the value alone when the interval could not be computed).</summary>
    public static string RocAuc(RocAucInterval auc) =>
        double.IsFinite(auc.Low) && double.IsFinite(auc.High)
            ? $"{MonitoringModel.Number(auc.Value)} [{MonitoringModel.Number(auc.Low)}, {MonitoringModel.Number(auc.High)}]"
            : MonitoringModel.Number(auc.Value);

    /// <summary>The version's registration time, as the other pages write times.</summary>
    public static string Registered(ModelVersion version) => MonitoringModel.Time(DateTimeOffset.FromUnixTimeMilliseconds(version.CreationTimestamp));
}
