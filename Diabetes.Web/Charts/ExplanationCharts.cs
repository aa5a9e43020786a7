using System.Globalization;
using ScottPlot;

namespace Diabetes.Web.Charts;

/// <summary>What raised a patient's risk and what lowered it: horizontal bars, one per field, as inline SVG (ScottPlot).</summary>
public static class ExplanationCharts
{
    private const int Width = 720;

    public static readonly Color Raised = Color.FromHex("#b3261e");
    public static readonly Color Lowered = Color.FromHex("#2e7d32");

    /// <summary>
    /// One bar per item, the largest on top, labelled "field: value" on the left and with its contribution at its end
    /// (contributions are raw, in the model's score units). The items are all raising (drawn right of zero) or all
    /// lowering (left of zero).
    /// </summary>
    public static string Contributions(IReadOnlyList<(string Label, double Contribution)> items, Color color)
    {
        var plot = new Plot();
        var bars = plot.Add.Bars(items.Select((item, i) => new Bar
        {
            Position = items.Count - 1 - i,
            Value = item.Contribution,
            FillColor = color,
            Orientation = Orientation.Horizontal,
            Label = Signed(item.Contribution),
        }).ToArray());
        bars.Horizontal = true;
        bars.ValueLabelStyle.FontSize = 13;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            items.Select((item, i) => new Tick(items.Count - 1 - i, item.Label)).ToArray());
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.XLabel("contribution to the model's score");
        // From zero to the longest bar, with room at the bars' ends for their values.
        var reach = 1.3 * items.Max(item => Math.Abs(item.Contribution));
        plot.Axes.SetLimitsX(items[0].Contribution < 0 ? -reach : 0, items[0].Contribution < 0 ? 0 : reach);
        plot.Axes.SetLimitsY(-0.6, items.Count - 0.4);
        return plot.GetSvgXml(Width, 70 + 40 * items.Count);
    }

    /// <summary>
    /// A contribution with its sign and at least 3 significant digits (+1.23, −0.000412, +1235, never an exponent), so
    /// that a small one is not shown as zero: a linear model's are often below a thousandth.
    /// </summary>
    public static string Signed(double contribution)
    {
        var size = Math.Abs(contribution);
        var decimals = size == 0 ? 0 : Math.Clamp(2 - (int)Math.Floor(Math.Log10(size)), 0, 15);
        return (contribution < 0 ? "−" : "+") + Math.Round(size, decimals, MidpointRounding.AwayFromZero).ToString("0.###############", CultureInfo.InvariantCulture);
    }
}
