using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Trainer.Training;

namespace Diabetes.Trainer.FunctionalTests;

/// <summary>The model card as a pure function of its figures: hand-made figures, no servers.</summary>
public class ModelCardTests
{
    private const string ChosenRun = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    [Fact]
    public void HasEverySectionInOrderWithTheFiguresOfItsInputs()
    {
        // Arrange
        var card = Card(runnerUp: new RocAucInterval(0.6950, 0.6750, 0.7150, 0.0102));

        // Act
        var markdown = card.ToMarkdown();
        var lines = markdown.Split('\n');

        // Assert: the title, the line under it, and the sections in order
        Assert.Equal("# diabetes-readmission: LightGbm(num_leaves=31)", lines[0]);
        Assert.Equal($"Run `{ChosenRun}` of training job `a1b2c3d4e5f6`, trained 2026-03-04 05:06 UTC. Decision threshold 0.2346, " +
            "the probability with the best F1 on the validation set: a probability at or above it predicts a readmission.", lines[2]);
        Assert.Equal(ModelCard.Sections.Select(s => $"## {s}"), lines.Where(l => l.StartsWith("## ", StringComparison.Ordinal)));

        // Data and lineage: source, batches, digest, rows per split, exclusions by reason and split
        Assert.Contains("| source file (SHA-256) | `3a17b` |", lines);
        Assert.Contains("| train batches | 1, 2, 3 |", lines);
        Assert.Contains("digest `c1ea4`", markdown);
        Assert.Contains("| train | 30,000 | 3,300 | 11.0 % |", lines);
        Assert.Contains("| validation | 1,500 | 170 | 11.3 % |", lines);
        Assert.Contains("| test | 1,400 | 150 | 10.7 % |", lines);
        Assert.Contains("| expired: the patient died (discharge disposition 11, 19, 20, 21) | 1,200 | 0 | 31 |", lines);
        Assert.Contains("| hospice (discharge disposition 13, 14) | 0 | 7 | 0 |", lines);
        Assert.Contains("rawdata.rejected_rows", markdown);

        // Candidates: each with its interval, PR-AUC and seconds as logged, the chosen one marked
        Assert.Contains($"| **LightGbm(num_leaves=31)** (chosen) | `{ChosenRun}` | 0.7012 [0.6812, 0.7212] | 0.2543 | 12.345 |", lines);
        Assert.Contains("| FastTree(num_trees=300) | `runner` | 0.6950 [0.6750, 0.7150] | 0.2400 | 3.500 |", lines);
        Assert.Contains("| LbfgsLogisticRegression(l2=1) | `third` | 0.6400 [0.6200, 0.6600] | 0.2000 | 1.000 |", lines);

        // Metrics on both splits, four decimals, with the test estimate's standard error
        Assert.Contains("| metric | validation | test |", lines);
        Assert.Contains("| rows (readmitted) | 1,500 (170) | 1,400 (150) |", lines);
        Assert.Contains("| ROC-AUC [95 % CI] | 0.7012 [0.6812, 0.7212] | 0.6890 [0.6650, 0.7130] |", lines);
        Assert.Contains("| ROC-AUC standard error | 0.0102 | 0.0123 |", lines);
        foreach (var row in new[] { "| PR-AUC | 0.2543 | 0.2411 |", "| F1 | 0.3100 | 0.3000 |", "| precision | 0.2200 | 0.2100 |", "| recall | 0.5200 | 0.5100 |",
            "| Brier score | 0.0900 | 0.0910 |", "| log-loss | 0.3300 | 0.3400 |" })
        {
            Assert.Contains(row, lines);
        }

        // Patient groups: a scored group with its figures, a group too small shown as such, the promotion's check
        Assert.Contains("### Validation (1,500 rows, 170 readmitted)", lines);
        Assert.Contains("| race Caucasian | 1,200 | 140 | 0.7100 [0.6700, 0.7500] | 0.3100 | 0.5200 | 0.2700 |", lines);
        Assert.Contains("| race Asian | 12 | 2 | too small (fewer than 30 readmitted or not readmitted) | – | – | – |", lines);
        Assert.Contains("`Promotion:MaxGroupAucDrop` (0.0200 for the trainer that trained this one)", markdown);

        // The ten most important inputs, the request fields they come from, and where explanations are
        Assert.Contains("| 1 | NumberInpatient | number_inpatient | 0.0300 |", lines);
        Assert.Contains("| 2 | Medications | the 21 medication fields (metformin, …) | 0.0290 |", lines);
        Assert.Contains("| 10 | Input9 | Input9 | 0.0210 |", lines);
        Assert.DoesNotContain("Input10", markdown);
        Assert.Contains("`?explain=true`", markdown);

        // Known limits: missing values of the train rows, the test's standard error, the groups too small
        Assert.Contains("`payer_code` is missing for 40.0 % and `medical_specialty` is missing for 49.0 % of the train rows", markdown);
        Assert.Contains("Test ROC-AUC 0.6890 has a standard error of 0.0123 (1,400 rows, 150 readmitted)", markdown);
        Assert.Contains("a difference below about 2.8 times that (0.0341, 1.96·√2 standard errors) may be chance", markdown);
        Assert.Contains("paired test", markdown);
        Assert.Contains("(as the dataset's paper, Strack et al. 2014, reports)", markdown.Replace("\n  ", " ", StringComparison.Ordinal));
        Assert.Contains("**Groups too small to judge:** race Asian (validation, test).", markdown);
        Assert.Contains("weighs a readmitted encounter 2.80 times", markdown);
        Assert.Contains("on test the mean probability is 0.1800 against a share readmitted of 0.1071", markdown);

        // How to call it: the input example, explanations, batches, the MLflow URI
        Assert.Contains("POST /api/predictions\n", markdown);
        Assert.Contains(ModelFolder.InputExample().TrimEnd(), markdown);
        Assert.Contains("/api/predictions/batch", markdown);
        Assert.Contains($"`top=` up to {PredictionLimits.MaxTop}", markdown);
        Assert.Contains("takes up to 1,000 encounters", markdown.Replace("\n", " ", StringComparison.Ordinal));
        Assert.Contains($"`runs:/{ChosenRun}/model`", markdown);
    }

    [Fact]
    public void SaysWhenTheLeadLiesWithinTheRunnerUpsInterval()
    {
        var card = Card(runnerUp: new RocAucInterval(0.6950, 0.6750, 0.7150, 0.0102));

        Assert.Equal("Margin over the runner-up, FastTree(num_trees=300): 0.7012 against 0.6950, 0.0062 higher, within the runner-up's interval " +
            "[0.6750, 0.7150]: on this validation set the two cannot be told apart, and the runner-up might have done as well.", card.Margin());
    }

    [Fact]
    public void SaysWhenTheLeadLiesAboveTheRunnerUpsInterval()
    {
        var card = Card(runnerUp: new RocAucInterval(0.6700, 0.6500, 0.6900, 0.0102));

        Assert.StartsWith("Margin over the runner-up, FastTree(num_trees=300): 0.7012 against 0.6700, 0.0312 higher, above the runner-up's interval " +
            "[0.6500, 0.6900]: the lead is larger than the runner-up's own uncertainty", card.Margin());
    }

    [Fact]
    public void AJobOfOneCandidateWithoutATestSplitSaysSo()
    {
        // Arrange
        var full = Card(runnerUp: new RocAucInterval(0.6950, 0.6750, 0.7150, 0.0102));
        var card = full with { Candidates = [full.Candidates[0]], Test = null, Slices = full.Slices with { Splits = [full.Slices.Splits[0]] } };

        // Act
        var markdown = card.ToMarkdown();

        // Assert
        Assert.Equal("It was the only candidate: there was nothing to choose between.", card.Margin());
        Assert.Contains("| metric | validation |", markdown);
        Assert.Contains("No usable test split", markdown);
        Assert.Contains("**No test estimate.**", markdown);
        Assert.DoesNotContain("### Test", markdown);
        Assert.Contains("on validation the mean probability is 0.1900 against a share readmitted of 0.1133", markdown);
    }

    [Fact]
    public void TextFromTheDataCannotBreakATableRow()
    {
        // Arrange: an exclusion reason the card does not know, with a backslash, a pipe and line breaks
        var full = Card(runnerUp: new RocAucInterval(0.6950, 0.6750, 0.7150, 0.0102));
        var card = full with { Data = full.Data with { Excluded = [new(DatasetSplit.Train, "odd\\|reason\r\nsecond\nthird", 4)] } };

        // Act
        var lines = card.ToMarkdown().Split('\n');

        // Assert: the backslash escaped first, so that the pipe's escape stands; one row, the line breaks as spaces
        Assert.Contains("| odd\\\\\\|reason second third | 4 | 0 | 0 |", lines);
    }

    [Fact]
    public void FiguresThatCouldNotBeComputedAreSaidToBeMissingNotWrittenAsNaN()
    {
        // Arrange: a test split too small for DeLong's variance, a runner-up without an interval
        var full = Card(runnerUp: new RocAucInterval(0.6950, double.NaN, double.NaN, double.NaN));
        var card = full with { Test = full.Test! with { RocAuc = new RocAucInterval(0.6890, double.NaN, double.NaN, double.NaN) } };

        // Act
        var markdown = card.ToMarkdown();

        // Assert
        Assert.DoesNotContain("NaN", markdown);
        Assert.Contains("| ROC-AUC standard error | 0.0102 | none |", markdown.Split('\n'));
        Assert.Contains("Test ROC-AUC 0.6890 (1,400 rows, 150 readmitted) has no standard error", markdown);
        Assert.Equal("Margin over the runner-up, FastTree(num_trees=300): 0.7012 against 0.6950, 0.0062 higher; the runner-up's ROC-AUC has no " +
            "interval, so whether the lead is more than chance cannot be said.", card.Margin());
    }

    private static ModelCard Card(RocAucInterval runnerUp)
    {
        var validation = new SplitFigures(DatasetSplit.Validation, Metrics(0.7012, 0.2543, 0.31, 0.22, 0.52, 0.09, 0.33, 1_500, 170),
            new RocAucInterval(0.7012, 0.6812, 0.7212, 0.0102), 0.19);
        var test = new SplitFigures(DatasetSplit.Test, Metrics(0.6890, 0.2411, 0.30, 0.21, 0.51, 0.091, 0.34, 1_400, 150),
            new RocAucInterval(0.6890, 0.6650, 0.7130, 0.0123), 0.18);
        GroupMetrics[] groups =
        [
            new("race", "Caucasian", "race.Caucasian", 1_200, 140, false, new RocAucInterval(0.71, 0.67, 0.75, 0.02), 0.31, 0.52, 0.27),
            new("race", "Asian", "race.Asian", 12, 2, true, null, null, null, null),
        ];
        FeatureImportance[] importance =
        [
            new("NumberInpatient", 0.03), new("Medications", 0.029),
            .. Enumerable.Range(2, 10).Select(i => new FeatureImportance($"Input{i}", 0.03 - i * 0.001)),
        ];
        return new ModelCard(
            "LightGbm(num_leaves=31)", ChosenRun, "a1b2c3d4e5f6", new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero), 0.23456, ModelFolder.ThresholdRule,
            new ModelCardData(["3a17b"], [1, 2, 3], "c1ea4",
                [new(DatasetSplit.Train, 30_000, 3_300), new(DatasetSplit.Validation, 1_500, 170), new(DatasetSplit.Test, 1_400, 150)],
                [new(DatasetSplit.Test, "expired", 31), new(DatasetSplit.Train, "expired", 1_200), new(DatasetSplit.Validation, "hospice", 7)],
                [new("payer_code", 12_000, 30_000), new("medical_specialty", 14_700, 30_000)]),
            [
                new(ChosenRun, "LightGbm(num_leaves=31)", validation.RocAuc, 0.2543, 12.345),
                new("runner", "FastTree(num_trees=300)", runnerUp, 0.24, 3.5),
                new("third", "LbfgsLogisticRegression(l2=1)", new RocAucInterval(0.64, 0.62, 0.66, 0.0102), 0.2, 1),
            ],
            validation, test,
            new ModelSlices(0.23456, PatientGroups.MinimumPerClass,
                [new SplitSlices("validation", 1_500, 170, groups), new SplitSlices("test", 1_400, 150, groups)]),
            importance, 1_500, 2.8, 0.02, ModelFolder.InputExample());
    }

    private static BinaryMetrics Metrics(double rocAuc, double prAuc, double f1, double precision, double recall, double brier, double logLoss, int rows, int positives) =>
        new(rocAuc, prAuc, logLoss, brier, 0.23456, f1, precision, recall, new ConfusionMatrix(0, 0, 0, 0), rows, positives);
}
