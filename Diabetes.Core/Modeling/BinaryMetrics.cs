namespace Diabetes.Core.Modeling;

/// <summary>Counts of one decision threshold.</summary>
public readonly record struct ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives);

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

    /// <summary>The metrics at <paramref name="threshold"/> (a probability at or above it predicts readmission).</summary>
    public static BinaryMetrics Compute(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double threshold)
    {
        if (probabilities.Count != labels.Count || probabilities.Count == 0)
        {
            throw new ArgumentException("Metrics need as many labels as probabilities, and at least one.");
        }

        long tp = 0, fp = 0, tn = 0, fn = 0;
        double logLoss = 0, brier = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            var y = labels[i] ? 1.0 : 0.0;
            logLoss -= y * Math.Log(p) + (1 - y) * Math.Log(1 - p);
            brier += (probabilities[i] - y) * (probabilities[i] - y);
            var predicted = probabilities[i] >= threshold;
            (tp, fp, tn, fn) = (predicted, labels[i]) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (true, false) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                (false, true) => (tp, fp, tn, fn + 1),
            };
        }

        var precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        var recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        return new BinaryMetrics(
            AreaUnderRoc(probabilities, labels),
            AveragePrecision(probabilities, labels),
            logLoss / probabilities.Count,
            brier / probabilities.Count,
            threshold,
            precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            precision,
            recall,
            new ConfusionMatrix(tp, fp, tn, fn),
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
