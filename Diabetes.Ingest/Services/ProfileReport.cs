using System.Globalization;
using System.Text;

namespace Diabetes.Ingest.Services;

/// <summary>The data analysis as a Markdown report, for people (the JSON form is for programs).</summary>
public static class ProfileReport
{
    public const string MediaType = "text/markdown";

    public static string ToMarkdown(ProfileResponse profile)
    {
        var text = new StringBuilder();
        text.AppendLine("# Diabetes 130-US hospitals: data analysis").AppendLine();
        text.AppendLine(profile.SourceSha256 is null
            ? "No source is prepared yet."
            : $"Source SHA-256 `{profile.SourceSha256}`: {N(profile.RawRows)} rows in RAW DATA, {N(profile.RejectedRows)} lines rejected.");

        text.AppendLine().AppendLine("## Outcome by split (RAW DATA)").AppendLine();
        Table(text, ["split", "encounters", "patients", "NO", ">30", "<30", "readmitted < 30 days"],
            profile.ClassBalance.Select(b => new[]
            {
                b.Split, N(b.Rows), N(b.Patients), N(b.Readmitted.GetValueOrDefault("NO")), N(b.Readmitted.GetValueOrDefault(">30")),
                N(b.Readmitted.GetValueOrDefault("<30")), $"{P(b.ReadmittedWithin30DaysPercent)} %",
            }));

        text.AppendLine().AppendLine("## CLEAN DATA").AppendLine();
        Table(text, ["split", "rows", "readmitted < 30 days"], profile.Clean.RowsBySplit.Select(s => new[]
        {
            s.Key, N(s.Value), $"{P(profile.Clean.ReadmittedWithin30DaysPercentBySplit.GetValueOrDefault(s.Key))} %",
        }));
        text.AppendLine().AppendLine(profile.Clean.ExcludedByReason.Count == 0
            ? "No encounter left out."
            : "Left out: " + string.Join(", ", profile.Clean.ExcludedByReason.Select(e => $"{e.Key} {N(e.Value)}")) + ".");

        text.AppendLine().AppendLine("## Columns").AppendLine();
        Table(text, ["column", "kind", "missing", "distinct", "top values", "min / median / mean / max", "note"],
            profile.Columns.Select(c => new[]
            {
                $"`{c.Name}`", c.Kind, $"{N(c.MissingCount)} ({P(c.MissingPercent)} %)", N(c.DistinctCount),
                string.Join(", ", c.TopValues.Select(v => $"{Escape(v.Value)} {P(v.Percent)} %")),
                c.Numeric is { } n ? $"{n.Min} / {n.Median:0.#} / {n.Mean:0.##} / {n.Max}" : "",
                c.Note ?? "",
            }));

        text.AppendLine().AppendLine("## Batches").AppendLine();
        Table(text, ["split", "batch", "rows", "encounter ids", "loaded", "cleaned"], profile.Batches.Select(b => new[]
        {
            b.Split, b.BatchNumber?.ToString(CultureInfo.InvariantCulture) ?? "whole", N(b.Rows), $"{b.FirstEncounterId}..{b.LastEncounterId}",
            b.LoadedAt.ToString("u", CultureInfo.InvariantCulture), b.Cleaned ? "yes" : "no",
        }));

        if (profile.RejectedSample.Count > 0)
        {
            text.AppendLine().AppendLine("## Rejected lines").AppendLine();
            Table(text, ["line", "reason"], profile.RejectedSample.Select(r => new[] { N(r.LineNumber), Escape(r.Reason) }));
        }

        return text.ToString();
    }

    private static void Table(StringBuilder text, string[] header, IEnumerable<string[]> rows)
    {
        text.AppendLine($"| {string.Join(" | ", header)} |");
        text.AppendLine($"|{string.Concat(header.Select(_ => " --- |"))}");
        foreach (var row in rows)
        {
            text.AppendLine($"| {string.Join(" | ", row)} |");
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string P(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string value) => value.Length == 0 ? "(empty)" : value.Replace("|", "\\|", StringComparison.Ordinal);
}
