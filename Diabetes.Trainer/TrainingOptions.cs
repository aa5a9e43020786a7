using Diabetes.Trainer.Training;
using Microsoft.Extensions.Options;

namespace Diabetes.Trainer;

public sealed class TrainingOptions
{
    /// <summary>
    /// The learner families a job sweeps (<c>Training__Algorithms</c>, comma-separated, e.g.
    /// <c>LightGbm,LbfgsLogisticRegression</c>); empty: all of <see cref="Candidates.All"/>. A quick sweep for a
    /// course exercise or an end-to-end check, the full one in production.
    /// </summary>
    public string? Algorithms { get; set; }

    /// <summary>
    /// How often a running job tags its MLflow run with a heartbeat (<c>Training__HeartbeatInterval</c>). A RUNNING job
    /// run silent for three intervals belongs to a trainer that stopped: it reads Failed, and is marked so.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<Candidate> SelectedCandidates()
    {
        var wanted = Names();
        return wanted.Length == 0
            ? Candidates.All
            : [.. Candidates.All.Where(c => wanted.Contains(c.Algorithm, StringComparer.OrdinalIgnoreCase))];
    }

    public string? UnknownAlgorithms()
    {
        var known = Candidates.All.Select(c => c.Algorithm).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = Names().Where(a => !known.Contains(a)).ToArray();
        return unknown.Length == 0
            ? null
            : $"Training:Algorithms names unknown families {string.Join(", ", unknown)}; known: {string.Join(", ", known.Order())}.";
    }

    private string[] Names() => (Algorithms ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A name no family answers to, or a heartbeat interval of zero, stops the trainer at start-up.</summary>
public sealed class TrainingOptionsValidator : IValidateOptions<TrainingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrainingOptions options) =>
        options.UnknownAlgorithms() is { } problem ? ValidateOptionsResult.Fail(problem)
        : options.HeartbeatInterval <= TimeSpan.Zero ? ValidateOptionsResult.Fail("Training:HeartbeatInterval must be longer than zero.")
        : ValidateOptionsResult.Success;
}
