namespace Diabetes.InferenceApi;

public sealed class ServingOptions
{
    /// <summary>How often MLflow is asked which version holds Production (<c>Serving__RefreshInterval</c>).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
}
