namespace Diabetes.Web.Clients;

// The inference API's monitoring answers, as far as the monitoring page reads them (docs/serving.md says every field).

public sealed record Traffic(DateTimeOffset From, DateTimeOffset To, long Predictions, IReadOnlyList<VersionTraffic> Versions);

public sealed record VersionTraffic(string Version, long Predictions, double PositiveRate, IReadOnlyList<TrafficHour> Hours);

public sealed record TrafficHour(DateTimeOffset Start, long Predictions, double PositiveRate);

/// <summary><c>status</c>: <c>ok</c>, <c>warn</c>, <c>alert</c>, <c>insufficient data</c> or <c>no reference</c> (with <c>reason</c>).</summary>
public sealed record Drift(
    DateTimeOffset From, DateTimeOffset To, string Version, long Rows, string Status, string? Reason, IReadOnlyList<InputDrift> Inputs,
    ScoreDrift? Score, PositiveRateDrift? PositiveRate, int MinimumRows, double PsiWarn, double PsiAlert);

/// <summary>One model input's drift: <c>name</c> is the request field it comes from, <c>input</c> the model's name for it.</summary>
public sealed record InputDrift(string Name, string Input, double? Psi, string Status);

public sealed record ScoreDrift(double? Psi, string Status);

public sealed record PositiveRateDrift(double? Actual, double Expected);

/// <summary>A version's live quality; <c>status</c> is <c>ok</c>, or <c>insufficient data</c> under <c>minimumOutcomes</c>.</summary>
public sealed record Performance(
    string Version, int Outcomes, string Status, int MinimumOutcomes, RocAuc? RocAuc, double? PrAuc, double? Brier, double? PositiveRate,
    double? Precision, double? Recall, IReadOnlyDictionary<string, double> Validation, IReadOnlyDictionary<string, double> Test,
    double AucDrop, bool? RocAucFell, IReadOnlyList<string> Notes);

public sealed record RocAuc(double Value, double? Low, double? High);
