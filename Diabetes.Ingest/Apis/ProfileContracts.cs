namespace Diabetes.Ingest.Apis;

/// <summary>Answer of <c>GET /api/dataset/profile</c>: the data analysis of RAW and CLEAN DATA.</summary>
public sealed record ProfileResponse(
    string? SourceSha256,
    long RawRows,
    int RejectedRows,
    IReadOnlyList<ColumnProfile> Columns,
    IReadOnlyList<SplitBalance> ClassBalance,
    CleanProfile Clean,
    IReadOnlyList<BatchStatus> Batches,
    IReadOnlyList<RejectedLine> RejectedSample);

/// <summary>One source column over all RAW rows. Missing means <c>?</c> or empty.</summary>
public sealed record ColumnProfile(
    string Name,
    string Kind,
    long MissingCount,
    double MissingPercent,
    int DistinctCount,
    IReadOnlyList<ValueCount> TopValues,
    NumericSummary? Numeric,
    string? Note);

public sealed record ValueCount(string Value, long Count, double Percent);

/// <summary>For whole-number columns: values that do not parse are counted in <see cref="Unparsable"/>.</summary>
public sealed record NumericSummary(long Min, long Max, double Mean, double Median, double StandardDeviation, long Unparsable);

/// <summary>The outcome's distribution in one split of RAW DATA.</summary>
public sealed record SplitBalance(
    string Split, long Rows, long Patients, IReadOnlyDictionary<string, long> Readmitted, double ReadmittedWithin30DaysPercent);

public sealed record CleanProfile(
    IReadOnlyDictionary<string, long> RowsBySplit,
    IReadOnlyDictionary<string, double> ReadmittedWithin30DaysPercentBySplit,
    IReadOnlyDictionary<string, long> ExcludedByReason);

public sealed record RejectedLine(long LineNumber, string Reason, string Content);
