using System.Globalization;
using Diabetes.Web.Clients;
using ScottPlot;

namespace Diabetes.Web.Charts;

/// <summary>The monitoring answers as pictures (inline SVG, as <see cref="DataCharts"/> draws them).</summary>
public static class MonitoringCharts
{
    public const string Ok = "ok";
    public const string Warn = "warn";
    public const string Alert = "alert";

    /// <summary>The width of the charts that need more room than <see cref="ChartSvg.Width"/>: the PSI's long labels, the hours of a week.</summary>
    private const int WideWidth = 960;

    /// <summary>An hour's bar on the time axis: 90 % of an hour, in days.</summary>
    private const double HourWidth = 0.9 / 24;

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>The colour of a drift status; <c>insufficient data</c> is grey, as it is never an alarm.</summary>
    public static Color ColorOf(string status) => status switch
    {
        Ok => Color.FromHex("#2e7d32"),
        Warn => Color.FromHex("#e69500"),
        Alert => Color.FromHex("#b3261e"),
        _ => Color.FromHex("#8a939e"),
    };

    /// <summary>
    /// Each input's PSI as a horizontal bar, the largest on top, coloured by its status, with the warn and alert
    /// lines of the answer.
    /// </summary>
    public static string Psi(Drift drift)
    {
        var inputs = drift.Inputs.Where(i => i.Psi is not null).OrderBy(i => i.Psi).ToArray();
        var plot = new Plot();
        var bars = plot.Add.Bars(inputs.Select((input, i) => new Bar
        {
            Position = i, Value = input.Psi!.Value, FillColor = ColorOf(input.Status), Orientation = Orientation.Horizontal,
            Label = Number(input.Psi.Value),
        }).ToArray());
        bars.Horizontal = true;
        bars.ValueLabelStyle.FontSize = 10;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(LabelsOf(inputs).Select((label, i) => new Tick(i, label)).ToArray());
        var statuses = inputs.Select(i => i.Status).Distinct().Order(StringComparer.Ordinal);
        plot.Legend.ManualItems.AddRange(statuses.Select(status => new LegendItem { LabelText = status, FillColor = ColorOf(status) }));
        foreach (var (threshold, status) in new[] { (drift.PsiWarn, Warn), (drift.PsiAlert, Alert) })
        {
            plot.Add.VerticalLine(threshold, 2, ColorOf(status), LinePattern.Dashed);
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"{status} line, {Number(threshold)}", LineColor = ColorOf(status), LineWidth = 2, LinePattern = LinePattern.Dashed,
            });
        }

        plot.ShowLegend(Alignment.LowerRight);
        plot.Title($"PSI per input, version {drift.Version} ({drift.Rows:N0} predictions)");
        plot.Axes.SetLimits(0, 1.15 * Math.Max(inputs.LastOrDefault()?.Psi ?? 0, drift.PsiAlert), -0.7, inputs.Length - 0.3);
        return ChartSvg.Of(plot, height: 110 + 17 * inputs.Length, width: WideWidth);
    }

    /// <summary>The predictions of each version in each hour of the window, stacked.</summary>
    public static string PredictionsPerHour(Traffic traffic)
    {
        var plot = new Plot();
        var stacked = new Dictionary<DateTimeOffset, double>();
        var bars = new List<Bar>();
        foreach (var version in traffic.Versions)
        {
            foreach (var hour in version.Hours)
            {
                var below = stacked.GetValueOrDefault(hour.Start);
                stacked[hour.Start] = below + hour.Predictions;
                bars.Add(new Bar { Position = X(hour.Start), ValueBase = below, Value = below + hour.Predictions, FillColor = ColorOf(version), Size = HourWidth, LineWidth = 0 });
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"version {version.Version}", FillColor = ColorOf(version) });
        }

        plot.Add.Bars(bars);
        TimeAxis(plot, traffic);
        plot.Axes.SetLimitsY(0, 1.15 * stacked.Values.DefaultIfEmpty(1).Max());
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title("Predictions per hour (UTC)");
        return ChartSvg.Of(plot, width: WideWidth);
    }

    /// <summary>
    /// The share of each version's predictions decided readmitted, in each hour it answered any, beside the share on
    /// validation of the version <paramref name="drift"/> is about.
    /// </summary>
    public static string PositiveRatePerHour(Traffic traffic, Drift? drift)
    {
        var plot = new Plot();
        foreach (var version in traffic.Versions)
        {
            var line = plot.Add.Scatter(version.Hours.Select(h => X(h.Start)).ToArray(), version.Hours.Select(h => 100 * h.PositiveRate).ToArray(), ColorOf(version));
            line.LegendText = $"version {version.Version}";
            line.MarkerSize = 8;
        }

        var highest = traffic.Versions.SelectMany(v => v.Hours).Select(h => h.PositiveRate).DefaultIfEmpty(0).Max();
        if (drift?.PositiveRate is { } rate)
        {
            var expected = plot.Add.HorizontalLine(100 * rate.Expected, 1.5f, Colors.Gray, LinePattern.Dashed);
            expected.LegendText = $"version {drift.Version} on validation";
            highest = Math.Max(highest, rate.Expected);
        }

        TimeAxis(plot, traffic);
        plot.Axes.SetLimitsY(0, Math.Max(1, 125 * highest));
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title("Share predicted readmitted per hour (%)");
        return ChartSvg.Of(plot, width: WideWidth);
    }

    /// <summary>
    /// Live ROC-AUC with its 95 % interval, beside the version's ROC-AUC on test and on validation, and the line below
    /// which live ROC-AUC counts as fallen (test's less <c>aucDrop</c>).
    /// </summary>
    public static string RocAuc(Performance performance, RocAuc live)
    {
        var rows = new List<(string Label, double Value, Color Color)> { ($"live ({performance.Outcomes:N0} outcomes)", live.Value, Colors.Black) };
        var hasTest = performance.Test.TryGetValue("roc_auc", out var test);
        if (hasTest)
        {
            rows.Add(("test", test, Palette.GetColor(0)));
        }

        if (performance.Validation.TryGetValue("roc_auc", out var validation))
        {
            rows.Add(("validation", validation, Palette.GetColor(2)));
        }

        // Live on top: row i is drawn at height count - 1 - i.
        double HeightOf(int row) => rows.Count - 1 - row;
        var plot = new Plot();
        var shown = rows.Select(r => r.Value).ToList();
        if (live is { Low: { } low, High: { } high })
        {
            var interval = plot.Add.Line(low, HeightOf(0), high, HeightOf(0));
            interval.LineWidth = 3;
            interval.LineColor = Colors.Black;
            shown.AddRange([low, high]);
        }

        foreach (var ((_, value, color), row) in rows.Select((r, i) => (r, i)))
        {
            plot.Add.Marker(value, HeightOf(row), MarkerShape.FilledCircle, 12, color);
            var text = plot.Add.Text(Number(value), value, HeightOf(row) + 0.35);
            text.LabelFontSize = 12;
            text.LabelAlignment = Alignment.LowerCenter;
        }

        if (hasTest)
        {
            var fallen = plot.Add.VerticalLine(test - performance.AucDrop, 1.5f, ColorOf(Alert), LinePattern.Dashed);
            fallen.LegendText = $"fallen below: test − {Number(performance.AucDrop)} (Monitoring:AucDrop)";
            plot.ShowLegend(Alignment.LowerLeft);
            shown.Add(test - performance.AucDrop);
        }

        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(rows.Select((r, i) => new Tick(HeightOf(i), r.Label)).ToArray());
        plot.Axes.SetLimits(Math.Max(0, shown.Min() - 0.05), Math.Min(1, shown.Max() + 0.05), -0.6 - (hasTest ? 0.6 : 0), rows.Count - 0.2);
        plot.Title($"ROC-AUC of version {performance.Version}");
        return ChartSvg.Of(plot, height: 120 + 50 * rows.Count);
    }

    /// <summary>
    /// The bars' labels: the request field an input comes from, with the model's name beside it where one field gives
    /// two inputs (<c>diag_1</c> its group and its code); the model's name alone for an input computed from several
    /// fields (<c>TotalPriorVisits</c>), whose answer names them in words.
    /// </summary>
    public static IReadOnlyList<string> LabelsOf(IReadOnlyList<InputDrift> inputs)
    {
        var shared = inputs.GroupBy(i => i.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return [.. inputs.Select(i =>
            !i.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? i.Input
            : shared.Contains(i.Name) ? $"{i.Name} ({i.Input})"
            : i.Name)];
    }

    /// <summary>A number as the page writes PSI and ROC-AUC: three decimals.</summary>
    public static string Number(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>A version's colour, the same in every chart and window.</summary>
    private static Color ColorOf(VersionTraffic version) =>
        Palette.GetColor(int.TryParse(version.Version, CultureInfo.InvariantCulture, out var number) ? number - 1 : 0);

    /// <summary>The time axis of a traffic chart: the whole window, in UTC.</summary>
    private static void TimeAxis(Plot plot, Traffic traffic)
    {
        plot.Axes.DateTimeTicksBottom();
        plot.Axes.SetLimitsX(traffic.From.UtcDateTime.ToOADate(), traffic.To.UtcDateTime.ToOADate());
    }

    /// <summary>An hour on the time axis (days, as <see cref="DateTime.ToOADate"/>), at its middle.</summary>
    private static double X(DateTimeOffset hour) => hour.UtcDateTime.AddMinutes(30).ToOADate();
}
