using System.Globalization;
using System.Text;
using Diabetes.Core.Encounters;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;

namespace Diabetes.Web.BrowserTests;

/// <summary>
/// What a training job adds to its chosen model's run beside the model folder: <c>slices.json</c> and its plot, made
/// by the trainer's own code (<see cref="PatientGroups"/>, <see cref="Plots.GroupRocAuc"/>) from the model's
/// probabilities on real encounters, and a model card with the model's real figures.
/// </summary>
public sealed record ChosenModelFiles(ModelSlices Slices, string Card)
{
    /// <summary>The files of <paramref name="model"/>: groups on the encounters it was validated on and on the next ones (test).</summary>
    public static ChosenModelFiles Of(TrainedCandidate model)
    {
        var validation = TestEncounters.All.Skip(8_000).Take(2_000).Select(r => r.Input).ToArray();
        var test = TestEncounters.All.Skip(10_000).Select(r => r.Input).ToArray();
        var threshold = model.Validation.Threshold;
        var slices = new ModelSlices(threshold, PatientGroups.MinimumPerClass,
        [
            SplitSlices.Measure(DatasetSplit.Validation, validation, model.Model.Predict(validation), threshold),
            SplitSlices.Measure(DatasetSplit.Test, test, model.Model.Predict(test), threshold),
        ]);
        return new ChosenModelFiles(slices, CardOf(model, slices));
    }

    /// <summary>Adds the files to the run of a published version, as the trainer logs them.</summary>
    public async Task AddToAsync(MlflowClient mlflow, ModelVersion version, string? card = null)
    {
        var run = (await mlflow.Api.GetRunAsync(version.RunId!, CancellationToken.None)).Run.Info;
        await mlflow.UploadArtifactAsync(run, ModelSlices.FileName, Slices.ToJson(), "application/json", CancellationToken.None);
        await mlflow.UploadArtifactAsync(run, "plots/slices_roc_auc.png", Plots.GroupRocAuc(Slices.Splits, "ROC AUC per patient group"), "image/png", CancellationToken.None);
        await mlflow.UploadArtifactAsync(run, ModelArtifacts.ModelCardFile, Encoding.UTF8.GetBytes(card ?? Card), "text/markdown", CancellationToken.None);
    }

    private static string CardOf(TrainedCandidate model, ModelSlices slices)
    {
        string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
        var validation = slices.Of(DatasetSplit.Validation)!;
        var groups = string.Join("\n", validation.Groups.Select(g =>
            $"| {g.Attribute} {g.Group} | {g.Rows} | {(g.RocAuc is { } auc ? F(auc.Value) : "too small")} |"));
        return $"""
            # Model card: {ModelArtifacts.RegisteredModelName}, {model.Candidate.Algorithm}

            ## Intended use
            The risk that a diabetic inpatient is readmitted within 30 days, to support and not replace a clinician's judgement.

            ## Data
            Trained on 8,000 encounters of the source file, validated on {validation.Rows:N0}.

            ## Metrics
            | Split | ROC-AUC | PR-AUC |
            | --- | ---: | ---: |
            | Validation | {F(model.Validation.RocAuc)} | {F(model.Validation.PrAuc)} |

            ## Patient groups
            | Group | Rows | ROC-AUC |
            | --- | ---: | ---: |
            {groups}

            ## Known limits
            - US hospitals, 1999–2008; `weight` is missing for most encounters.

            ## How to call it
            `POST /api/predictions` with the encounter's fields.
            """;
    }
}
