using System.Globalization;
using System.Text;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Core.Monitoring;

namespace Diabetes.Trainer.Training;

/// <summary>A candidate of a job as its model card lists it: its run and what validation said of it.</summary>
public sealed record CandidateSummary(string RunId, string Name, RocAucInterval ValidationRocAuc, double ValidationPrAuc, double TrainSeconds)
{
    public static CandidateSummary Of(string runId, TrainedCandidate trained) =>
        new(runId, trained.Candidate.Name, trained.ValidationRocAuc, trained.Validation.PrAuc, trained.TrainSeconds);
}

/// <summary>Rows and readmitted rows of one split of the CLEAN DATA a job read.</summary>
public sealed record SplitCount(DatasetSplit Split, int Rows, int Positives);

/// <summary>How many train rows leave a request field unknown, which the model then reads as a category of its own.</summary>
public sealed record MissingValues(string Field, int Rows, int OutOf)
{
    public static MissingValues Count(string field, IReadOnlyList<ModelInput> rows, Func<ModelInput, string> value) =>
        new(field, rows.Count(r => value(r) == ModelInput.MissingCategory), rows.Count);
}

/// <summary>The data a version was trained on and where it came from.</summary>
public sealed record ModelCardData(
    IReadOnlyList<string> SourceSha256,
    IReadOnlyList<int> Batches,
    string CleanDataDigest,
    IReadOnlyList<SplitCount> Splits,
    IReadOnlyList<ExcludedEncounters> Excluded,
    IReadOnlyList<MissingValues> MissingInTrain);

/// <summary>
/// <c>model_card.md</c> of a registered version: what the model is for and not for, the data and its lineage, the
/// candidates and why this one, its metrics with intervals, its figures per patient group, its most important inputs,
/// its known limits and how to call it. Every figure comes from what the job measured (<see cref="Describe"/>);
/// <see cref="ToMarkdown"/> writes it as CommonMark with pipe tables, the figures to four decimals as the logged
/// metrics round them.
/// </summary>
public sealed record ModelCard(
    string CandidateName,
    string RunId,
    string JobId,
    DateTimeOffset TrainedAt,
    double Threshold,
    string ThresholdRule,
    ModelCardData Data,
    IReadOnlyList<CandidateSummary> Candidates,
    SplitFigures Validation,
    SplitFigures? Test,
    ModelSlices Slices,
    IReadOnlyList<FeatureImportance> Importance,
    int ImportanceRows,
    double PositiveWeight,
    double MaxGroupAucDrop,
    string InputExample)
{
    /// <summary>How many of the most important inputs the card lists.</summary>
    public const int TopInputs = 10;

    /// <summary>The card's sections, in their order, as <c>##</c> headings.</summary>
    public static readonly IReadOnlyList<string> Sections =
    [
        "Intended use", "Data and lineage", "Candidates and why this one", "Metrics", "Patient groups", "Most important inputs",
        "Known limits", "How to call it",
    ];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    // The 95 % two-sided threshold for the difference of two independent estimates with equal standard errors.
    private static readonly double TwoSampleFactor = 1.96 * Math.Sqrt(2);

    /// <summary>
    /// The card of a job's chosen model, from what the job read and measured: <paramref name="candidates"/> are every
    /// candidate it tried, the chosen one among them (<paramref name="runId"/>), fitted with
    /// <paramref name="positiveWeight"/> (<see cref="ModelTrainer.PositiveWeight"/>) at <paramref name="trainedAt"/>
    /// (the time its <c>metadata.json</c> records).
    /// </summary>
    public static ModelCard Describe(
        string jobId, string runId, TrainedCandidate chosen, ChosenModelFigures figures, IReadOnlyList<CandidateSummary> candidates,
        TrainingSnapshot data, double positiveWeight, double maxGroupAucDrop, DateTimeOffset trainedAt)
    {
        var (train, validation, test, excluded) = data;
        var lineage = data.Lineage();
        return new ModelCard(
            chosen.Candidate.Name, runId, jobId, trainedAt, chosen.Validation.Threshold, ModelFolder.ThresholdRule,
            new ModelCardData(
                lineage.SourceSha256,
                lineage.Batches,
                TrainingWorkflow.CleanDataDigest(train, validation, test),
                [.. new[] { train, validation, test }.Select(s => new SplitCount(s.Split, s.Count, s.Positives))],
                excluded,
                [
                    MissingValues.Count("payer_code", train.Inputs, i => i.PayerCode),
                    MissingValues.Count("medical_specialty", train.Inputs, i => i.MedicalSpecialty),
                ]),
            candidates, figures.Validation, figures.Test, figures.Slices, figures.Importance, figures.ImportanceRows,
            positiveWeight, maxGroupAucDrop, ModelFolder.InputExample());
    }

    /// <summary>The card as its run keeps it: <see cref="ModelArtifacts.ModelCardFile"/> at the artifact root.</summary>
    public ArtifactFile ToArtifact() => new(ModelArtifacts.ModelCardFile, Encoding.UTF8.GetBytes(ToMarkdown()), "text/markdown");

    public string ToMarkdown()
    {
        var card = new StringBuilder();
        card.AppendLine($"# {ModelArtifacts.RegisteredModelName}: {CandidateName}").AppendLine();
        card.AppendLine($"Run `{RunId}` of training job `{JobId}`, trained {TrainedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", Invariant)} UTC. " +
            $"Decision threshold {F(Threshold)}, {ThresholdRule}: a probability at or above it predicts a readmission.").AppendLine();
        WriteIntendedUse(card);
        WriteDataAndLineage(card);
        WriteCandidates(card);
        WriteMetrics(card);
        WriteGroups(card);
        WriteImportantInputs(card);
        WriteKnownLimits(card);
        WriteHowToCall(card);
        return card.ToString();
    }

    private static void WriteIntendedUse(StringBuilder card)
    {
        Section(card, 0);
        card.AppendLine("""
            The risk that a diabetic patient is readmitted to hospital within 30 days of an inpatient encounter
            (`readmitted = '<30'` in the source), estimated from what the encounter's record holds: demographics, admission
            and discharge, diagnoses, laboratory results, medications and prior visits.

            It is for clinicians, discharge planners and care-management teams of hospitals like those of the data, to see
            which inpatients may need closer follow-up after discharge. It supports a clinician's judgement and does not
            replace it: a high risk is a reason to look again at a patient, a low risk no reason to look less.

            It must not be used:
            - to decide care, discharge, follow-up or resources on its own, without a clinician;
            - for patients outside the data's population without checking it on them first: patients without diabetes,
              encounters without an inpatient admission, encounters that end in death or hospice (left out of the data),
              hospitals, countries and years unlike 130 US hospitals in 1999-2008;
            - to judge clinicians or hospitals, or to price insurance or refuse cover;
            - as a diagnosis: it predicts a readmission, not its cause.

            """);
    }

    private void WriteDataAndLineage(StringBuilder card)
    {
        Section(card, 1);
        card.AppendLine("| lineage | |").AppendLine("| --- | --- |");
        card.AppendLine($"| source file (SHA-256) | {string.Join(", ", Data.SourceSha256.Select(s => $"`{s}`"))} |");
        card.AppendLine($"| train batches | {string.Join(", ", Data.Batches)} |");
        card.AppendLine($"| CLEAN DATA | `cleandata.clean_encounters`, digest `{Data.CleanDataDigest}` (`clean_data_digest`: the SHA-256 of the three splits' digests, each of its sorted encounter ids) |");
        card.AppendLine();
        card.AppendLine("| split | rows | readmitted | share readmitted |").AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var split in Data.Splits)
        {
            card.AppendLine($"| {split.Split.ToName()} | {N(split.Rows)} | {N(split.Positives)} | {Percent(split.Positives, split.Rows)} |");
        }

        card.AppendLine();
        card.AppendLine($"""
            The split is made by patient, once per source file, so that no patient is in two splits: a patient's bucket is the
            first eight bytes of the SHA-256 of the decimal `patient_nbr`, read big-endian, mod 100; below {SplitRule.TrainBelow}
            is train, below {SplitRule.ValidationBelow} validation, the rest test. Train rows are loaded in batches in the order of
            `encounter_id`; this model was trained on the batches above.

            """);
        if (Data.Excluded.Count == 0)
        {
            card.AppendLine("Left out by the cleaning: none recorded for the batches read (table `cleandata.excluded_encounters`).").AppendLine();
        }
        else
        {
            card.AppendLine("Left out by the cleaning, in the batches read (table `cleandata.excluded_encounters`):").AppendLine();
            card.AppendLine("| reason | train | validation | test |").AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var reason in Data.Excluded.Select(e => e.Reason).Distinct())
            {
                var counts = Enum.GetValues<DatasetSplit>().Select(split => N(Data.Excluded.Where(e => e.Reason == reason && e.Split == split).Sum(e => e.Rows)));
                card.AppendLine($"| {Exclusion(reason)} | {string.Join(" | ", counts)} |");
            }

            card.AppendLine();
        }

        card.AppendLine("""
            Source lines rejected at load (malformed lines) never reach CLEAN DATA: their number is `rejectedRows` in
            `GET ingest/api/dataset/status`, the lines themselves are in `rawdata.rejected_rows` (a sample in
            `GET ingest/api/dataset/profile`).

            """);
    }

    private static string Exclusion(string reason) => reason switch
    {
        EncounterCleaner.ExcludedExpired => $"expired: the patient died (discharge disposition {string.Join(", ", EncounterCleaner.ExpiredDispositions.Order())})",
        EncounterCleaner.ExcludedHospice => $"hospice (discharge disposition {string.Join(", ", EncounterCleaner.HospiceDispositions.Order())})",
        EncounterCleaner.ExcludedInvalid => "invalid: values that break the dataset's rules",
        _ => Cell(reason),
    };

    private void WriteCandidates(StringBuilder card)
    {
        Section(card, 2);
        card.AppendLine($"""
            Every candidate was fitted on the train split and judged on validation; the one with the highest validation
            ROC-AUC was chosen. The test split never chooses: only the chosen model meets it, once.

            """);
        card.AppendLine("| candidate | run | validation ROC-AUC [95 % CI] | PR-AUC | train seconds |").AppendLine("| --- | --- | --- | ---: | ---: |");
        foreach (var candidate in Candidates)
        {
            var name = candidate.RunId == RunId ? $"**{Cell(candidate.Name)}** (chosen)" : Cell(candidate.Name);
            card.AppendLine($"| {name} | `{candidate.RunId}` | {Interval(candidate.ValidationRocAuc)} | {F(candidate.ValidationPrAuc)} | " +
                $"{candidate.TrainSeconds.ToString("0.000", Invariant)} |");
        }

        card.AppendLine().AppendLine(Margin()).AppendLine();
    }

    /// <summary>How far the chosen candidate leads the runner-up, and whether the lead lies within the runner-up's interval.</summary>
    public string Margin()
    {
        var chosen = Candidates.Single(c => c.RunId == RunId).ValidationRocAuc;
        if (Candidates.Where(c => c.RunId != RunId).MaxBy(c => c.ValidationRocAuc.Value) is not { } runnerUp)
        {
            return "It was the only candidate: there was nothing to choose between.";
        }

        var other = runnerUp.ValidationRocAuc;
        var lead = $"Margin over the runner-up, {Cell(runnerUp.Name)}: {F(chosen.Value)} against {F(other.Value)}, " +
            $"{F(chosen.Value - other.Value)} higher";
        if (!HasInterval(other))
        {
            return $"{lead}; the runner-up's ROC-AUC has no interval, so whether the lead is more than chance cannot be said.";
        }

        return chosen.Value <= other.High
            ? $"{lead}, within the runner-up's interval [{F(other.Low)}, {F(other.High)}]: on this validation set the two cannot be told " +
              "apart, and the runner-up might have done as well."
            : $"{lead}, above the runner-up's interval [{F(other.Low)}, {F(other.High)}]: the lead is larger than the runner-up's own " +
              "uncertainty on this validation set (a rough check: both were measured on the same rows, which a paired test would use).";
    }

    private void WriteMetrics(StringBuilder card)
    {
        Section(card, 3);
        card.AppendLine($"At the decision threshold {F(Threshold)}. Validation chose the model and its threshold; the test split was used once, after the choice.").AppendLine();
        var splits = Test is null ? new[] { Validation } : [Validation, Test];
        card.AppendLine($"| metric | {string.Join(" | ", splits.Select(s => s.Split.ToName()))} |")
            .AppendLine($"| --- |{string.Concat(splits.Select(_ => " ---: |"))}");
        void Row(string metric, Func<SplitFigures, string> value) => card.AppendLine($"| {metric} | {string.Join(" | ", splits.Select(value))} |");
        Row("rows (readmitted)", s => $"{N(s.Metrics.Count)} ({N(s.Metrics.Positives)})");
        Row("ROC-AUC [95 % CI]", s => Interval(s.RocAuc));
        Row("ROC-AUC standard error", s => StandardError(s.RocAuc.StandardError));
        Row("PR-AUC", s => F(s.Metrics.PrAuc));
        Row("F1", s => F(s.Metrics.F1));
        Row("precision", s => F(s.Metrics.Precision));
        Row("recall", s => F(s.Metrics.Recall));
        Row("Brier score", s => F(s.Metrics.Brier));
        Row("log-loss", s => F(s.Metrics.LogLoss));
        Row("mean probability", s => F(s.MeanProbability));
        Row("share readmitted", s => F(s.ObservedRate));
        card.AppendLine();
        if (Test is null)
        {
            card.AppendLine("No usable test split (both outcomes must occur in it): this version has no test estimate.").AppendLine();
        }
    }

    private void WriteGroups(StringBuilder card)
    {
        Section(card, 4);
        card.AppendLine($"""
            Figures per group at the decision threshold, as in `{ModelSlices.FileName}` and `plots/slices_roc_auc.png` of this run.
            A group with fewer than {Slices.MinimumPerClass} readmitted or fewer than {Slices.MinimumPerClass} not readmitted encounters is too small to score.

            """);
        foreach (var split in Slices.Splits)
        {
            card.AppendLine($"### {char.ToUpperInvariant(split.Split[0])}{split.Split[1..]} ({N(split.Rows)} rows, {N(split.Positives)} readmitted)").AppendLine();
            card.AppendLine("| group | rows | readmitted | ROC-AUC [95 % CI] | predicted positive | TPR | FPR |")
                .AppendLine("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
            foreach (var group in split.Groups)
            {
                var figures = group.RocAuc is { } auc
                    ? $"{Interval(auc)} | {F(group.PredictedPositiveRate!.Value)} | {F(group.TruePositiveRate!.Value)} | {F(group.FalsePositiveRate!.Value)}"
                    : $"{TooSmall} | – | – | –";
                card.AppendLine($"| {Cell(group.ToString())} | {N(group.Rows)} | {N(group.Positives)} | {figures} |");
            }

            card.AppendLine();
        }

        card.AppendLine($"""
            Promotion checks the groups too: a version that beats the one holding Production on validation ROC-AUC is still
            refused when, in a group large enough to score in both, its validation ROC-AUC is lower by more than
            `Promotion:MaxGroupAucDrop` ({F(MaxGroupAucDrop)} for the trainer that trained this one).

            """);
    }

    private string TooSmall => $"too small (fewer than {Slices.MinimumPerClass} readmitted or not readmitted)";

    private void WriteImportantInputs(StringBuilder card)
    {
        Section(card, 5);
        var top = Importance.Take(TopInputs).ToArray();
        card.AppendLine($"""
            Permutation importance on validation ({N(ImportanceRows)} rows): how much ROC-AUC drops when the values of one of
            the model's inputs are shuffled across the rows. The {top.Length} largest of {Importance.Count}:

            """);
        card.AppendLine("| # | input | request fields | ROC-AUC drop |").AppendLine("| ---: | --- | --- | ---: |");
        for (var i = 0; i < top.Length; i++)
        {
            card.AppendLine($"| {i + 1} | {Cell(top[i].Feature)} | {Cell(RequestFields(top[i].Feature))} | {F(top[i].RocAucDrop)} |");
        }

        card.AppendLine().AppendLine("""
            These are global: they say what the model leans on across patients, not why one patient got their risk. For
            that, ask the inference API with `?explain=true` (below): it answers each prediction with the contributions of
            the request's own fields, the largest first.

            """);
    }

    /// <summary>The request fields an input of the model is made from.</summary>
    private static string RequestFields(string input) =>
        MonitoredInput.ByInput.TryGetValue(input, out var monitored) ? monitored.Field
        : input == nameof(ModelInput.Medications) ? $"the {EncounterCleaner.KeptMedications.Count} medication fields ({EncounterCleaner.KeptMedications[0]}, …)"
        : input;

    private void WriteKnownLimits(StringBuilder card)
    {
        Section(card, 6);
        card.AppendLine("""
            - **Time and place.** The data are the encounters of 130 US hospitals from 1999 to 2008 (the UCI dataset
              "Diabetes 130-US hospitals"). Practice, coding (ICD-9, since replaced by ICD-10) and populations have changed
              since: check the model on today's patients before trusting these figures for them.
            - **Missing values.** `weight` is missing for about 97 % of the source's encounters (as the dataset's paper,
              Strack et al. 2014, reports) and is dropped by the cleaning: the model never reads it.
            """.TrimEnd());
        card.AppendLine("  " + string.Join(" and ", Data.MissingInTrain.Select(m => $"`{m.Field}` is missing for {Percent(m.Rows, m.OutOf)}")) +
            " of the train rows; the model reads a missing value as a category of its own, so it may learn a hospital's recording habits as much as the patient.");
        card.AppendLine("""
            - **The label is readmission as the source recorded it** (`readmitted = '<30'`): a readmission the data did not
              record, to another hospital for instance, counts as none, and encounters that end in death or hospice are left out.
            """.TrimEnd());
        card.AppendLine(TestUncertainty());
        var tooSmall = Slices.Splits.SelectMany(s => s.Groups.Where(g => g.TooSmall).Select(g => (g.ToString(), s.Split)))
            .GroupBy(g => g.Item1, g => g.Split).Select(g => $"{g.Key} ({string.Join(", ", g)})").ToArray();
        card.AppendLine(tooSmall.Length == 0
            ? "- **Groups.** Every patient group was large enough to score on every split."
            : $"- **Groups too small to judge:** {string.Join("; ", tooSmall)}. How the model does for these patients is unknown.");
        var calibrated = Test ?? Validation;
        card.AppendLine($"- **Calibration.** Training weighs a readmitted encounter {PositiveWeight.ToString("0.00", Invariant)} times as much as another " +
            $"(the square root of negatives per positive), which tends to raise the probabilities: on {calibrated.Split.ToName()} the mean probability is " +
            $"{F(calibrated.MeanProbability)} against a share readmitted of {F(calibrated.ObservedRate)}. Read a probability as a ranking of risk and " +
            "the threshold as the point of best F1 on validation, not as a calibrated chance.");
        card.AppendLine();
    }

    private void WriteHowToCall(StringBuilder card)
    {
        Section(card, 7);
        card.AppendLine($"""
            While this version holds Production the inference API serves it (`GET /api/model` says which version it serves).
            A prediction request is one encounter, its fields named as the dataset's columns, without ids and label; a field
            the dataset may leave unknown may be `null` or absent. For example (`model/{ModelArtifacts.InputExampleFile}` of this run):

            ```http
            POST /api/predictions
            Content-Type: application/json

            {InputExample.TrimEnd()}
            ```

            The answer holds `readmittedWithin30Days`, `probability`, `threshold` and the model that answered.
            `POST /api/predictions?explain=true` adds an `explanation`: the baseline and the largest contributions of the
            request's fields ({PredictionLimits.DefaultTop} by default, `top=` up to {PredictionLimits.MaxTop}). `POST /api/predictions/batch`
            takes up to {N(PredictionLimits.MaxBatchSize)} encounters as a JSON array, in order, and takes `?explain=true` as well
            (up to {N(PredictionLimits.MaxExplainedBatchSize)} encounters then).

            In MLflow the model is `runs:/{RunId}/{ModelArtifacts.FolderPath}`: `{ModelArtifacts.ModelFile}` (the ML.NET
            model with its featurization), `{ModelArtifacts.MetadataFile}` (the threshold, the features, the lineage) and
            `MLmodel` (flavor `mlnet`, the signature).
            """);
    }

    /// <summary>
    /// What the test estimate's standard error allows. Two estimates from independent test sets differ by more than
    /// chance at the 5 % level beyond about 1.96·√2 ≈ 2.8 standard errors; two versions scored on the same rows are
    /// correlated, and only a paired test (DeLong's for two correlated ROC curves) can say whether they differ.
    /// </summary>
    private string TestUncertainty()
    {
        if (Test is not { } test)
        {
            return "- **No test estimate.** The job had no usable test split: only validation, which chose the model, has judged it.";
        }

        var rows = $"({N(test.Metrics.Count)} rows, {N(test.Metrics.Positives)} readmitted)";
        if (!double.IsFinite(test.RocAuc.StandardError))
        {
            return $"- **The test estimate is uncertain.** Test ROC-AUC {F(test.RocAuc.Value)} {rows} has no standard error: too few rows of a class to compute one.";
        }

        return $"- **The test estimate is uncertain.** Test ROC-AUC {F(test.RocAuc.Value)} has a standard error of {F(test.RocAuc.StandardError)} " +
            $"{rows}. Against a figure measured on other rows with the same uncertainty, a difference below about 2.8 times that " +
            $"({F(TwoSampleFactor * test.RocAuc.StandardError)}, 1.96·√2 standard errors) may be chance; versions scored on these same rows " +
            "are compared with a paired test (DeLong's for correlated ROC curves), not by this threshold.";
    }

    private static void Section(StringBuilder card, int index) => card.AppendLine($"## {Sections[index]}").AppendLine();

    private static string F(double value) => value.ToString("F4", Invariant);

    private static string N(int value) => value.ToString("N0", Invariant);

    private static string Percent(int part, int whole) => whole == 0 ? "–" : $"{(100.0 * part / whole).ToString("F1", Invariant)} %";

    private static bool HasInterval(RocAucInterval auc) => double.IsFinite(auc.Low) && double.IsFinite(auc.High);

    /// <summary>A ROC-AUC with its interval, or said to have none (too few rows of a class for DeLong's variance).</summary>
    private static string Interval(RocAucInterval auc) =>
        HasInterval(auc) ? $"{F(auc.Value)} [{F(auc.Low)}, {F(auc.High)}]" : $"{F(auc.Value)} (no interval)";

    /// <summary>A standard error, or "none" when it could not be computed.</summary>
    private static string StandardError(double standardError) => double.IsFinite(standardError) ? F(standardError) : "none";

    /// <summary>
    /// Text safe in a pipe table's cell: a backslash first (so that it cannot escape what follows), then the pipe; a line
    /// break would end the row, so it becomes a space.
    /// </summary>
    private static string Cell(string text) => text
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("\r\n", " ", StringComparison.Ordinal)
        .Replace('\r', ' ')
        .Replace('\n', ' ');
}
