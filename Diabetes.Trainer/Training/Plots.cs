using Diabetes.Core.Modeling;
using ScottPlot;

namespace Diabetes.Trainer.Training;

/// <summary>The chosen model's plots, drawn with ScottPlot as PNG.</summary>
public static class Plots
{
    private const int Width = 800;
    private const int Height = 600;

    public static byte[] Roc(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, string title)
    {
        var plot = Curve(BinaryMetrics.RocCurve(probabilities, labels), $"ROC AUC {BinaryMetrics.AreaUnderRoc(probabilities, labels):F3}",
            title, "False positive rate", "True positive rate");
        Chance(plot.Add.Line(0, 0, 1, 1), "chance");
        plot.ShowLegend(Alignment.LowerRight);
        return Png(plot);
    }

    public static byte[] PrecisionRecall(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, string title)
    {
        var plot = Curve(BinaryMetrics.PrecisionRecallCurve(probabilities, labels),
            $"average precision {BinaryMetrics.AveragePrecision(probabilities, labels):F3}", title, "Recall", "Precision");
        var baseRate = (double)labels.Count(l => l) / labels.Count;
        Chance(plot.Add.HorizontalLine(baseRate), $"base rate {baseRate:P1}");
        plot.ShowLegend(Alignment.UpperRight);
        return Png(plot);
    }

    /// <summary>A curve on the unit square, with its title and axis names.</summary>
    private static Plot Curve(IReadOnlyList<CurvePoint> curve, string legend, string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Add.ScatterLine(curve.Select(p => p.X).ToArray(), curve.Select(p => p.Y).ToArray()).LegendText = legend;
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.SetLimits(0, 1, 0, 1);
        return plot;
    }

    /// <summary>What a model without skill would draw: a dashed reference line.</summary>
    private static void Chance<TLine>(TLine line, string legend)
        where TLine : IHasLine, IHasLegendText
    {
        line.LinePattern = LinePattern.Dashed;
        line.LegendText = legend;
    }

    public static byte[] Confusion(ConfusionMatrix matrix, double threshold, string title)
    {
        // Rows: actual (readmitted, not); columns: predicted (readmitted, not).
        double[,] counts =
        {
            { matrix.TruePositives, matrix.FalseNegatives },
            { matrix.FalsePositives, matrix.TrueNegatives },
        };
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(counts);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        plot.Add.ColorBar(heatmap);
        string[] names = ["readmitted < 30 days", "not readmitted < 30 days"];
        for (var row = 0; row < 2; row++)
        {
            for (var column = 0; column < 2; column++)
            {
                var text = plot.Add.Text($"{counts[row, column]:N0}", column, 1 - row);
                text.LabelFontSize = 28;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = Colors.Black;
                text.LabelBackgroundColor = Colors.White.WithAlpha(0.7);
            }
        }

        plot.Axes.Bottom.SetTicks([0, 1], [$"predicted {names[0]}", $"predicted {names[1]}"]);
        plot.Axes.Left.SetTicks([1, 0], [$"actual {names[0]}", $"actual {names[1]}"]);
        plot.Title($"{title} (threshold {threshold:F3})");
        return Png(plot);
    }

    public static byte[] FeatureImportance(IReadOnlyList<FeatureImportance> importances, string title)
    {
        var shown = importances.Take(20).Reverse().ToArray();
        var plot = new Plot();
        var bars = plot.Add.Bars(shown.Select(i => i.RocAucDrop).ToArray());
        bars.Horizontal = true;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, shown.Length).Select(i => (double)i).ToArray(), shown.Select(i => i.Feature).ToArray());
        plot.Title(title);
        plot.XLabel("Drop of ROC AUC when the column is shuffled");
        return Png(plot);
    }

    /// <summary>
    /// ROC-AUC of each patient group with its 95 % interval, one marker per split, groups top to bottom in table order;
    /// a group too small on a split has no marker there, and one too small on every split says so in its label.
    /// </summary>
    public static byte[] GroupRocAuc(IReadOnlyList<SplitSlices> splits, string title)
    {
        var groups = PatientGroups.All;
        var plot = new Plot();
        var offset = splits.Count > 1 ? 0.3 / (splits.Count - 1) : 0;
        for (var s = 0; s < splits.Count; s++)
        {
            var scored = splits[s].Groups.Select((group, index) => (group, index)).Where(g => g.group.RocAuc is not null).ToArray();
            var aucs = scored.Select(g => g.group.RocAuc!.Value).ToArray();
            double[] xs = [.. aucs.Select(a => a.Value)];
            double[] ys = [.. scored.Select(g => groups.Count - 1 - g.index + 0.15 - s * offset)];
            var markers = plot.Add.ScatterPoints(xs, ys);
            markers.LegendText = splits[s].Split;
            markers.MarkerSize = 9;
            var intervals = new ScottPlot.Plottables.ErrorBar(xs, ys,
                [.. aucs.Select(a => a.Value - a.Low)], [.. aucs.Select(a => a.High - a.Value)], null, null);
            intervals.Color = markers.Color;
            plot.Add.Plottable(intervals);
        }

        var labels = groups.Select((group, index) => splits.All(split => split.Groups[index].TooSmall)
            ? $"{group.Attribute} {group.Group} (too small)"
            : $"{group.Attribute} {group.Group}").Reverse().ToArray();
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, groups.Count).Select(i => (double)i)], labels);
        Chance(plot.Add.VerticalLine(0.5), "chance");
        plot.Axes.SetLimitsY(-0.7, groups.Count - 0.3);
        plot.Title(title);
        plot.XLabel($"ROC AUC and 95 % interval (too small: under {PatientGroups.MinimumPerClass} of a class)");
        plot.ShowLegend(Alignment.LowerRight);
        return Png(plot);
    }

    private static byte[] Png(Plot plot) => plot.GetImageBytes(Width, Height, ImageFormat.Png);
}
