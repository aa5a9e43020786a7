using Diabetes.Web.Clients;
using ScottPlot;

namespace Diabetes.Web.Charts;

/// <summary>The data analysis as pictures: inline SVG drawn with ScottPlot, so the page needs no chart script.</summary>
public static class DataCharts
{
    private static readonly string[] Outcomes = ["NO", ">30", "<30"];

    /// <summary>The share of each outcome in each split of RAW DATA.</summary>
    public static string ClassBalance(IReadOnlyList<SplitBalance> splits)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        for (var s = 0; s < splits.Count; s++)
        {
            var total = Math.Max(1, splits[s].Readmitted.Values.Sum());
            for (var o = 0; o < Outcomes.Length; o++)
            {
                var share = 100.0 * splits[s].Readmitted.GetValueOrDefault(Outcomes[o]) / total;
                bars.Add(new Bar { Position = s * (Outcomes.Length + 1) + o, Value = share, FillColor = palette.GetColor(o), Label = $"{share:F1} %" });
            }
        }

        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            splits.Select((split, s) => new Tick(s * (Outcomes.Length + 1) + 1, $"{split.Split} ({split.Rows:N0})")).ToArray());
        plot.Legend.ManualItems.AddRange(Outcomes.Select((outcome, o) => new LegendItem { LabelText = $"readmitted {outcome}", FillColor = palette.GetColor(o) }));
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title("Outcome by split (%)");
        plot.Axes.Margins(bottom: 0);
        return ChartSvg.Of(plot);
    }

    /// <summary>The share of missing values in each column that has any.</summary>
    public static string MissingShare(IReadOnlyList<ColumnMissing> columns)
    {
        var missing = columns.Where(c => c.MissingCount > 0).OrderBy(c => c.MissingPercent).ToArray();
        var plot = new Plot();
        var bars = plot.Add.Bars(missing.Select((c, i) => new Bar
        {
            Position = i, Value = c.MissingPercent, Orientation = Orientation.Horizontal, Label = $"{c.MissingPercent:F1} %",
        }).ToArray());
        bars.Horizontal = true;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(missing.Select((c, i) => new Tick(i, c.Name)).ToArray());
        plot.Title("Missing values per column (%)");
        plot.Axes.Margins(left: 0);
        return ChartSvg.Of(plot, height: Math.Max(ChartSvg.Height / 2, 60 + 28 * missing.Length));
    }

    /// <summary>Rows of each train batch loaded so far.</summary>
    public static string RowsPerBatch(IReadOnlyList<LedgerBatch> batches)
    {
        var train = batches.Where(b => b.BatchNumber is not null).OrderBy(b => b.BatchNumber).ToArray();
        var plot = new Plot();
        plot.Add.Bars(train.Select(b => new Bar { Position = b.BatchNumber!.Value, Value = b.Rows, Label = $"{b.Rows:N0}" }).ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(train.Select(b => new Tick(b.BatchNumber!.Value, $"batch {b.BatchNumber}")).ToArray());
        plot.Title("Train rows per batch");
        plot.Axes.Margins(bottom: 0);
        return ChartSvg.Of(plot);
    }
}
