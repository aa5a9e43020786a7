using Refit;

namespace Diabetes.Web.Clients;

/// <summary>The ingest service's data analysis, as the data page shows it (<c>https+http://ingest</c>).</summary>
public interface IIngestApi
{
    [Get("/api/dataset/profile?top=3")]
    Task<DataProfile> GetProfileAsync(CancellationToken cancellationToken);
}

public sealed record DataProfile(
    string? SourceSha256, long RawRows, int RejectedRows, IReadOnlyList<ColumnMissing> Columns, IReadOnlyList<SplitBalance> ClassBalance,
    CleanSummary Clean, IReadOnlyList<LedgerBatch> Batches);

public sealed record ColumnMissing(string Name, long MissingCount, double MissingPercent);

public sealed record SplitBalance(string Split, long Rows, long Patients, IReadOnlyDictionary<string, long> Readmitted, double ReadmittedWithin30DaysPercent);

public sealed record CleanSummary(IReadOnlyDictionary<string, long> RowsBySplit, IReadOnlyDictionary<string, long> ExcludedByReason);

public sealed record LedgerBatch(string Split, int? BatchNumber, int Rows, long FirstEncounterId, long LastEncounterId, DateTimeOffset LoadedAt, bool Cleaned);
