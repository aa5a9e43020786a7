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
    public void RefusesMismatchedInputs() =>
        Assert.Throws<ArgumentException>(() => BinaryMetrics.Compute([0.5f], [true, false], 0.5));
}
