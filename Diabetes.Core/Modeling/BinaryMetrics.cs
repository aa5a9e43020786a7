namespace Diabetes.Core.Modeling;

/// <summary>Counts of one decision threshold.</summary>
public readonly record struct ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    /// <summary>The counts of <paramref name="decisions"/> (predicted readmitted or not) against <paramref name="labels"/>.</summary>
    public static ConfusionMatrix Of(IReadOnlyList<bool> decisions, IReadOnlyList<bool> labels)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < decisions.Count; i++)
        {
            (tp, fp, tn, fn) = (decisions[i], labels[i]) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (true, false) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                (false, true) => (tp, fp, tn, fn + 1),
            };
        }

        return new ConfusionMatrix(tp, fp, tn, fn);
    }
}

/// <summary>
/// ROC-AUC, its 95 % confidence interval and the standard error the interval was drawn from; <see cref="double.NaN"/>
/// where undefined (see <see cref="BinaryMetrics.RocAucWithInterval"/>), the standard error also in a file written
/// before it was recorded.
/// </summary>
public readonly record struct RocAucInterval(double Value, double Low, double High, double StandardError = double.NaN)
{
    /// <summary>Nothing known: what JSON fills in, so that a figure the file leaves out stays <see cref="double.NaN"/>, not 0.</summary>
    public RocAucInterval()
        : this(double.NaN, double.NaN, double.NaN)
    {
    }
}

/// <summary>One point of a curve (ROC: false positive rate, true positive rate; PR: recall, precision).</summary>
public readonly record struct CurvePoint(double X, double Y, double Threshold);

/// <summary>
/// Metrics of predicted probabilities against labels, computed the same way wherever a model is judged (training,
/// promotion, benchmarks), so a figure logged at training can be reproduced from the saved model exactly.
/// </summary>
public sealed record BinaryMetrics(
    double RocAuc,
    double PrAuc,
    double LogLoss,
    double Brier,
    double Threshold,
    double F1,
    double Precision,
    double Recall,
    ConfusionMatrix Confusion,
    int Count,
    int Positives)
{
    private const double Epsilon = 1e-15;

    /// <summary>The standard normal distribution's 97.5th percentile: a two-sided 95 % interval spans ± this many standard errors.</summary>
    private const double NormalQuantile975 = 1.959963984540054;

    /// <summary>The metrics at <paramref name="threshold"/> (a probability at or above it predicts readmission).</summary>
    public static BinaryMetrics Compute(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double threshold)
    {
        if (probabilities.Count != labels.Count || probabilities.Count == 0)
        {
            throw new ArgumentException("Metrics need as many labels as probabilities, and at least one.");
        }

        double logLoss = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            var y = labels[i] ? 1.0 : 0.0;
            logLoss -= y * Math.Log(p) + (1 - y) * Math.Log(1 - p);
        }

        var confusion = ConfusionMatrix.Of(probabilities.Select(p => p >= threshold).ToArray(), labels);
        var (tp, fp, fn) = (confusion.TruePositives, confusion.FalsePositives, confusion.FalseNegatives);
        var precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        var recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        return new BinaryMetrics(
            AreaUnderRoc(probabilities, labels),
            AveragePrecision(probabilities, labels),
            logLoss / probabilities.Count,
            BrierScore(probabilities, labels),
            threshold,
            precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            precision,
            recall,
            confusion,
            probabilities.Count,
            labels.Count(l => l));
    }

    /// <summary>The threshold with the best F1: the decision rule chosen on validation and saved with the model.</summary>
    public static double BestF1Threshold(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var positives = labels.Count(l => l);
        var best = (F1: -1.0, Threshold: 0.5);
        long tp = 0, fp = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            tp += group.Positives;
            fp += group.Negatives;
            var precision = (double)tp / (tp + fp);
            var recall = positives == 0 ? 0 : (double)tp / positives;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            if (f1 > best.F1)
            {
                best = (f1, group.Probability);
            }
        }

        return best.Threshold;
    }

    /// <summary>Area under the ROC curve, with tied probabilities counted as half (the Mann-Whitney statistic).</summary>
    public static double AreaUnderRoc(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        double area = 0;
        long negativesAbove = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            area += group.Positives * (negativesAbove + group.Negatives / 2.0);
            negativesAbove += group.Negatives;
        }

        return 1 - area / (positives * (double)negatives);
    }

    /// <summary>The mean squared difference between the probability and the outcome (1 readmitted, 0 not).</summary>
    public static double BrierScore(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        double sum = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var y = labels[i] ? 1.0 : 0.0;
            sum += (probabilities[i] - y) * (probabilities[i] - y);
        }

        return sum / probabilities.Count;
    }

    /// <summary>
    /// ROC-AUC with its 95 % confidence interval by DeLong's method (DeLong, DeLong and Clarke-Pearson, Biometrics 1988):
    /// each positive's placement is the share of negatives it outranks, each negative's the share of positives that
    /// outrank it (ties counting half); the area is the positives' mean placement, and its variance the two placements'
    /// sample variances over their class sizes, s²₁₀/m + s²₀₁/n. The interval is the area ± 1.96 standard errors, cut
    /// to [0, 1]; the standard error is given as computed, so it says how sure the area is even where the interval is
    /// cut. Unlike Hanley and McNeil's formula it assumes no distribution of the scores. The value is
    /// <see cref="double.NaN"/> when a class is missing, the bounds and the standard error also when a class has a
    /// single member (no variance).
    /// </summary>
    public static RocAucInterval RocAucWithInterval(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        var value = AreaUnderRoc(probabilities, labels);
        if (positives < 2 || negatives < 2)
        {
            return new RocAucInterval(value, double.NaN, double.NaN);
        }

        // Tied probabilities share one placement per class, so a pass over the ranked groups gives both sums of squares.
        double positiveSquares = 0, negativeSquares = 0;
        long positivesAbove = 0, negativesAbove = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            var negativesBelow = negatives - negativesAbove - group.Negatives;
            var positivePlacement = (negativesBelow + group.Negatives / 2.0) / negatives;
            var negativePlacement = (positivesAbove + group.Positives / 2.0) / positives;
            positiveSquares += group.Positives * (positivePlacement - value) * (positivePlacement - value);
            negativeSquares += group.Negatives * (negativePlacement - value) * (negativePlacement - value);
            positivesAbove += group.Positives;
            negativesAbove += group.Negatives;
        }

        var variance = positiveSquares / (positives - 1) / positives + negativeSquares / (negatives - 1) / negatives;
        var standardError = Math.Sqrt(variance);
        var margin = NormalQuantile975 * standardError;
        return new RocAucInterval(value, Math.Max(0, value - margin), Math.Min(1, value + margin), standardError);
    }

    /// <summary>Area under the precision-recall curve as average precision (the step-wise sum scikit-learn uses).</summary>
    public static double AveragePrecision(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var positives = labels.Count(l => l);
        if (positives == 0)
        {
            return double.NaN;
        }

        double area = 0, previousRecall = 0;
        long tp = 0, fp = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            tp += group.Positives;
            fp += group.Negatives;
            var recall = (double)tp / positives;
            area += (recall - previousRecall) * tp / (tp + fp);
            previousRecall = recall;
        }

        return area;
    }

    public static IReadOnlyList<CurvePoint> RocCurve(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        var points = new List<CurvePoint> { new(0, 0, 1) };
        long tp = 0, fp = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            tp += group.Positives;
            fp += group.Negatives;
            points.Add(new CurvePoint((double)fp / Math.Max(1, negatives), (double)tp / Math.Max(1, positives), group.Probability));
        }

        return points;
    }

    public static IReadOnlyList<CurvePoint> PrecisionRecallCurve(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var positives = Math.Max(1, labels.Count(l => l));
        var points = new List<CurvePoint>();
        long tp = 0, fp = 0;
        foreach (var group in Ranked(probabilities, labels))
        {
            tp += group.Positives;
            fp += group.Negatives;
            points.Add(new CurvePoint((double)tp / positives, (double)tp / (tp + fp), group.Probability));
        }

        return points;
    }

    /// <summary>Distinct probabilities from the highest down, with how many positives and negatives share each.</summary>
    private static IEnumerable<(float Probability, long Positives, long Negatives)> Ranked(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        var start = 0;
        while (start < order.Length)
        {
            var probability = probabilities[order[start]];
            long positives = 0, negatives = 0;
            var end = start;
            while (end < order.Length && probabilities[order[end]] == probability)
            {
                if (labels[order[end]])
                {
                    positives++;
                }
                else
                {
                    negatives++;
                }

                end++;
            }

            yield return (probability, positives, negatives);
            start = end;
        }
    }
}
