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

    private static byte[] Png(Plot plot) => plot.GetImageBytes(Width, Height, ImageFormat.Png);
}
