namespace Diabetes.InferenceApi.Apis;

/// <summary>The body of <c>POST /api/predictions/{id}/outcome</c>: whether the patient was readmitted within 30 days.</summary>
public sealed record OutcomeRequest(bool ReadmittedWithin30Days);

/// <summary>One item of <c>POST /api/outcomes</c>: a prediction's id (its answer's <c>predictionId</c>) and its outcome.</summary>
public sealed record OutcomeItemRequest(Guid PredictionId, bool ReadmittedWithin30Days);

/// <summary>
/// What became of one item of <c>POST /api/outcomes</c>: <c>status</c> is <c>recorded</c>, <c>already recorded</c>,
/// <c>conflict</c> (another outcome is on record and stays), <c>unknown</c> (no such prediction in the log) or
/// <c>invalid</c>; <c>predictionId</c> as sent (when it was a string), <c>onRecord</c> the outcome on record for the
/// prediction, and <c>detail</c> what is wrong.
/// </summary>
public sealed record OutcomeItemResponse(string? PredictionId, string Status, bool? OnRecord, string? Detail);

/// <summary>The answer to <c>POST /api/outcomes</c>: the items in the order sent, and how many of each status.</summary>
public sealed record OutcomesResponse(int Recorded, int AlreadyRecorded, int Conflict, int Unknown, int Invalid, IReadOnlyList<OutcomeItemResponse> Items);

/// <summary>ROC-AUC with its 95 % confidence interval (DeLong); no bounds when a class has a single outcome.</summary>
public sealed record RocAucResponse(double Value, double? Low, double? High);

/// <summary>
/// A version's live quality (<c>GET /api/monitoring/performance</c>), from its predictions that have outcomes:
/// <c>status</c> is <c>ok</c>, or <c>insufficient data</c> under <c>minimumOutcomes</c> outcomes, when only the count
/// is given. A figure a set of outcomes cannot define (ROC-AUC with one class only) is null, and <c>notes</c> say why.
/// <c>positiveRate</c> is the share predicted readmitted; <c>precision</c> and <c>recall</c> are the logged decisions'.
/// <c>validation</c> and <c>test</c> are the version's <c>val_*</c> and <c>test_*</c> metrics in MLflow, without the prefix.
/// <c>rocAucFell</c> says whether live ROC-AUC is below the test ROC-AUC by more than <c>aucDrop</c>
/// (<c>Monitoring:AucDrop</c>); null when either is missing or there are too few outcomes.
/// </summary>
public sealed record PerformanceResponse(
    string Version,
    int Outcomes,
    string Status,
    int MinimumOutcomes,
    RocAucResponse? RocAuc,
    double? PrAuc,
    double? Brier,
    double? PositiveRate,
    double? Precision,
    double? Recall,
    IReadOnlyDictionary<string, double> Validation,
    IReadOnlyDictionary<string, double> Test,
    double AucDrop,
    bool? RocAucFell,
    IReadOnlyList<string> Notes);
