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
    /// How long a running job's lease in PostgreSQL lasts unless its trainer renews it (<c>Training__LeaseDuration</c>).
    /// A trainer that cannot renew for this long (it died, or PostgreSQL does not answer it) stops its job, and any
    /// trainer may then take the job over and mark it failed. MLflow plays no part: a trainer cut off from MLflow but
    /// not from PostgreSQL keeps its job. Two minutes ride out a busy machine and a PostgreSQL restart.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often a running job's trainer renews its lease, and how often every trainer looks for jobs whose lease has
    /// expired (<c>Training__LeaseRenewInterval</c>). At most a third of <see cref="LeaseDuration"/>, so that a lease
    /// outlives two renewals lost in a row.
    /// </summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(15);

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

/// <summary>A name no family answers to, or lease timings that cannot hold, stop the trainer at start-up.</summary>
public sealed class TrainingOptionsValidator : IValidateOptions<TrainingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrainingOptions options) =>
        options.UnknownAlgorithms() is { } problem ? ValidateOptionsResult.Fail(problem)
        : options.LeaseRenewInterval <= TimeSpan.Zero ? ValidateOptionsResult.Fail("Training:LeaseRenewInterval must be longer than zero.")
        : options.LeaseRenewInterval * 3 > options.LeaseDuration ? ValidateOptionsResult.Fail(
            $"Training:LeaseRenewInterval ({options.LeaseRenewInterval}) must be at most a third of Training:LeaseDuration ({options.LeaseDuration}).")
        : ValidateOptionsResult.Success;
}
