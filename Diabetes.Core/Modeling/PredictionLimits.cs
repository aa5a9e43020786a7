namespace Diabetes.Core.Modeling;

/// <summary>
/// What one call of the inference API's predictions may ask for, shared by the API that enforces it and the model card
/// that tells callers.
/// </summary>
public static class PredictionLimits
{
    /// <summary>Encounters in one <c>POST /api/predictions/batch</c>.</summary>
    public const int MaxBatchSize = 1_000;

    /// <summary>
    /// Encounters in one batch asked to explain (<c>?explain=true</c>): an explanation costs about ten predictions (a
    /// thousand explained encounters hold a core for about two seconds).
    /// </summary>
    public const int MaxExplainedBatchSize = 100;

    /// <summary>Contributions an explanation lists when <c>top=</c> is not given.</summary>
    public const int DefaultTop = 10;

    /// <summary>The most contributions an explanation lists (<c>top=</c>).</summary>
    public const int MaxTop = 50;
}
