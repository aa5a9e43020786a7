namespace Diabetes.Ingest.Apis;

/// <summary>Answer of <c>POST /api/dataset/prepare</c>.</summary>
public sealed record PrepareResponse(
    string SourceSha256, int Rows, int RejectedRows, TrainSummary Train, SplitSummary Validation, SplitSummary Test);

public sealed record TrainSummary(int Rows, int Batches, int BatchSize);

public sealed record SplitSummary(int Rows);

/// <summary>Answer of <c>POST /api/batches/next</c>; <see cref="BatchNumber"/> is null when nothing was left to load.</summary>
public sealed record NextBatchResponse(int? BatchNumber, int Rows, long LoadedTrainRows, int RemainingBatches, bool Done);

/// <summary>Answer of <c>POST /api/clean</c>: what this call did, and what CLEAN DATA holds after it.</summary>
public sealed record CleanResponse(
    int CleanedRows,
    int ExcludedRows,
    IReadOnlyDictionary<string, int> ExcludedByReason,
    IReadOnlyDictionary<string, long> CleanRowsBySplit);

/// <summary>Answer of <c>GET /api/dataset/status</c>.</summary>
public sealed record StatusResponse(
    SourceStatus? Source,
    TrainProgress Train,
    IReadOnlyDictionary<string, long> RawRowsBySplit,
    IReadOnlyDictionary<string, long> CleanRowsBySplit,
    IReadOnlyDictionary<string, long> ExcludedByReason,
    IReadOnlyList<BatchStatus> Batches);

public sealed record SourceStatus(
    string Sha256, string Location, string ObjectKey, string CsvEntry, long SizeBytes, int Rows, int RejectedRows, DateTimeOffset PreparedAt);

public sealed record TrainProgress(int LoadedBatches, int TotalBatches, int RemainingBatches, long LoadedRows, int TotalRows, int BatchSize);

public sealed record BatchStatus(
    string Split, int? BatchNumber, int Rows, long FirstEncounterId, long LastEncounterId, DateTimeOffset LoadedAt, int? LoadMilliseconds, bool Cleaned);
