using Diabetes.Core.Modeling;

namespace Diabetes.Core.UnitTests;

public class BinaryMetricsTests
{
    // scikit-learn's documented example: roc_auc_score = 0.75, average_precision_score = 0.8333...
    private static readonly float[] Probabilities = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly bool[] Labels = [false, false, true, true];

    [Fact]
    public void MatchesScikitLearnOnItsExample()
    {
        var metrics = BinaryMetrics.Compute(Probabilities, Labels, threshold: 0.5);

        Assert.Equal(0.75, metrics.RocAuc, 12);
        Assert.Equal(5.0 / 6.0, metrics.PrAuc, 12);
        Assert.Equal(new ConfusionMatrix(TruePositives: 1, FalsePositives: 0, TrueNegatives: 2, FalseNegatives: 1), metrics.Confusion);
        Assert.Equal((1.0, 0.5, 2.0 / 3.0), (metrics.Precision, metrics.Recall, metrics.F1));
        var expectedLogLoss = -(Math.Log(1 - 0.1) + Math.Log(1 - 0.4) + Math.Log(0.35) + Math.Log(0.8)) / 4;
        Assert.Equal(expectedLogLoss, metrics.LogLoss, 6);
        Assert.Equal((0.01 + 0.16 + 0.4225 + 0.04) / 4, metrics.Brier, 6);
    }

    [Fact]
    public void CountsTiedProbabilitiesAsHalf()
    {
        Assert.Equal(0.5, BinaryMetrics.AreaUnderRoc([0.3f, 0.3f], [true, false]));
        Assert.Equal(1.0, BinaryMetrics.AreaUnderRoc([0.9f, 0.3f], [true, false]));
        Assert.Equal(0.0, BinaryMetrics.AreaUnderRoc([0.3f, 0.9f], [true, false]));
    }

    [Fact]
    public void ChoosesTheThresholdWithTheBestF1()
    {
        // At 0.35 both positives are caught with one false positive (F1 0.8), better than at 0.8 (F1 0.667).
        Assert.Equal(0.35, BinaryMetrics.BestF1Threshold(Probabilities, Labels), 6);
    }

    [Fact]
    public void DrawsCurvesFromTheOriginToTheEnd()
    {
        var roc = BinaryMetrics.RocCurve(Probabilities, Labels);
        var pr = BinaryMetrics.PrecisionRecallCurve(Probabilities, Labels);

        Assert.Equal((0, 0), (roc[0].X, roc[0].Y));
        Assert.Equal((1, 1), (roc[^1].X, roc[^1].Y));
        Assert.Equal(1, pr[^1].X);
        Assert.Equal(0.5, pr[^1].Y);
    }

    [Fact]
    public void GivesDeLongsIntervalOnScikitLearnsExample()
    {
        // Worked by hand: the positives 0.35 and 0.8 outrank 1/2 and 2/2 of the negatives; the negatives 0.1 and 0.4 are
        // outranked by 2/2 and 1/2 of the positives. Both placements have sample variance 0.125, so the area's variance
        // is 0.125/2 + 0.125/2 and its standard error √0.125; pROC's ci.auc gives the same 0.057 to 1.
        var auc = BinaryMetrics.RocAucWithInterval(Probabilities, Labels);

        Assert.Equal(0.75, auc.Value, 12);
        Assert.Equal(0.75 - 1.959963984540054 * Math.Sqrt(0.125), auc.Low, 12);
        Assert.Equal(1.0, auc.High);

        // The interval is cut at 1, the standard error is not: it cannot be had back from the bounds
        Assert.Equal(Math.Sqrt(0.125), auc.StandardError, 12);
    }

    [Fact]
    public void DeLongsIntervalMatchesItsDefinitionWithTiesAndNarrowsWithMoreData()
    {
        // Arrange: probabilities on a coarse grid, so that many are tied within and across the classes
        var random = new Random(7);
        var labels = Enumerable.Range(0, 2_000).Select(_ => random.NextDouble() < 0.3).ToArray();
        var probabilities = labels.Select(l => (float)Math.Round(Math.Clamp(random.NextDouble() * 0.7 + (l ? 0.25 : 0), 0, 1), 1)).ToArray();

        // Act
        var small = BinaryMetrics.RocAucWithInterval(probabilities[..200], labels[..200]);
        var large = BinaryMetrics.RocAucWithInterval(probabilities, labels);

        // Assert: the same as the placements computed pair by pair, and a narrower interval from ten times the data
        foreach (var (auc, count) in new[] { (small, 200), (large, 2_000) })
        {
            var (value, low, high) = DeLongByPairs(probabilities[..count], labels[..count]);
            Assert.Equal(BinaryMetrics.AreaUnderRoc(probabilities[..count], labels[..count]), auc.Value, 12);
            Assert.Equal(value, auc.Value, 12);
            Assert.Equal(low, auc.Low, 12);
            Assert.Equal(high, auc.High, 12);
            Assert.InRange(auc.Value, auc.Low, auc.High);
        }

        Assert.True(large.High - large.Low < (small.High - small.Low) / 2, $"{large} is not narrower than {small}");
    }

    [Fact]
    public void LeavesWhatOneClassCannotGiveUndefined()
    {
        var allNegative = BinaryMetrics.RocAucWithInterval([0.2f, 0.7f, 0.4f], [false, false, false]);
        var onePositive = BinaryMetrics.RocAucWithInterval([0.2f, 0.7f, 0.4f], [false, true, false]);

        Assert.True(double.IsNaN(allNegative.Value) && double.IsNaN(allNegative.Low) && double.IsNaN(allNegative.High));
        Assert.Equal(1.0, onePositive.Value);
        Assert.True(double.IsNaN(onePositive.Low) && double.IsNaN(onePositive.High) && double.IsNaN(onePositive.StandardError));
    }

    [Fact]
    public void RefusesMismatchedInputs() =>
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([0.5f], [true, false], 0.5));

    /// <summary>DeLong's interval straight from its definition: every positive compared with every negative.</summary>
    private static (double Value, double Low, double High) DeLongByPairs(float[] probabilities, bool[] labels)
    {
        var positives = probabilities.Where((_, i) => labels[i]).ToArray();
        var negatives = probabilities.Where((_, i) => !labels[i]).ToArray();
        static double Kernel(float positive, float negative) => positive > negative ? 1 : positive == negative ? 0.5 : 0;
        var positivePlacements = positives.Select(x => negatives.Average(y => Kernel(x, y))).ToArray();
        var negativePlacements = negatives.Select(y => positives.Average(x => Kernel(x, y))).ToArray();
        var value = positivePlacements.Average();
        static double SampleVariance(double[] values)
        {
            var mean = values.Average();
            return values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        }

        var standardError = Math.Sqrt(SampleVariance(positivePlacements) / positives.Length + SampleVariance(negativePlacements) / negatives.Length);
        return (value, Math.Max(0, value - 1.959963984540054 * standardError), Math.Min(1, value + 1.959963984540054 * standardError));
    }
}
