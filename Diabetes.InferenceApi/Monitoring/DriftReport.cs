using System.Collections.Concurrent;
using Diabetes.Core.Data;
using Diabetes.Core.Monitoring;
using Diabetes.InferenceApi.Data;
using Diabetes.InferenceApi.Serving;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>One bin of a drift answer: its label, and the share of the reference and of the window that fell in it.</summary>
public sealed record DriftBin(string Label, double Expected, double Actual);

/// <summary>
/// The drift of one model input: <c>name</c> is the request field it comes from, <c>input</c> the model's own name for
/// it (a field may give two inputs, as <c>diag_1</c> gives its ICD-9 group and code).
/// </summary>
public sealed record InputDrift(string Name, string Input, double? Psi, string Status, IReadOnlyList<DriftBin> Bins);

/// <summary>The drift of the model's probabilities against validation's.</summary>
public sealed record ScoreDrift(double? Psi, string Status, IReadOnlyList<DriftBin> Bins);

/// <summary>The share predicted readmitted in the window (<c>null</c> without predictions) and on validation.</summary>
public sealed record PositiveRateDrift(double? Actual, double Expected);

/// <summary>
/// Answer of <c>GET /api/monitoring/drift</c>. <c>status</c> is the worst of the inputs' and the score's (<c>ok</c>,
/// <c>warn</c>, <c>alert</c>), or <c>insufficient data</c>, or <c>no reference</c> (with <c>reason</c>) for a version
/// without a reference profile. The window is whole buckets of ten minutes. <c>minimumRows</c>, <c>psiWarn</c> and
/// <c>psiAlert</c> are the settings the statuses were judged by (<c>Monitoring:MinimumRows</c>, <c>PsiWarn</c>, <c>PsiAlert</c>).
/// </summary>
public sealed record DriftResponse(
    DateTimeOffset From, DateTimeOffset To, string Version, long Rows, string Status, string? Reason,
    IReadOnlyList<InputDrift> Inputs, ScoreDrift? Score, PositiveRateDrift? PositiveRate,
    int MinimumRows, double PsiWarn, double PsiAlert);

/// <summary>Drift of a version's logged predictions against its reference profile, over a window.</summary>
public sealed class DriftReport(ServingState state, ModelLoader loader, IServiceProvider services, IOptions<MonitoringOptions> options)
{
    public const string NoReference = "no reference";

    /// <summary>The profiles of versions not served, read once: a version's model folder never changes.</summary>
    private readonly ConcurrentDictionary<string, (ReferenceProfile? Profile, string? Problem)> _references = new(StringComparer.Ordinal);

    /// <summary>The log's database, or null when the log is off.</summary>
    public NpgsqlDataSource? DataSource { get; } = services.GetService<NpgsqlDataSource>();

    private readonly DatabaseSchema<MonitoringDataContext>? _schema = services.GetService<DatabaseSchema<MonitoringDataContext>>();

    /// <summary>The drift of a version over a window; null when the version is not registered.</summary>
    public async Task<DriftResponse?> ComputeAsync(string modelName, string version, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (await ReferenceOfAsync(version, cancellationToken) is not var (reference, problem))
        {
            return null;
        }

        await _schema!.EnsureCreatedAsync(cancellationToken);
        var (from10, to10) = (DriftCounts.BucketOf(from), DriftCounts.BucketAtOrAfter(to));
        var counts = await DriftCounts.ReadAsync(DataSource!, modelName, int.Parse(version, System.Globalization.CultureInfo.InvariantCulture),
            from10, to10, cancellationToken);
        var decisions = counts.GetValueOrDefault(DriftCounts.DecisionInput) ?? [];
        var rows = decisions.Values.Sum();
        var settings = options.Value;
        if (reference is null)
        {
            return new DriftResponse(from10, to10, version, rows, NoReference, problem, [], null, null,
                settings.MinimumRows, settings.PsiWarn, settings.PsiAlert);
        }

        var enough = rows >= settings.MinimumRows;
        string StatusOf(double psi) => enough ? PopulationStability.Status(psi, settings.PsiWarn, settings.PsiAlert) : PopulationStability.InsufficientData;

        (double Psi, IReadOnlyList<DriftBin> Bins) Compare(InputProfile profile)
        {
            var actual = counts.GetValueOrDefault(profile.Input) ?? [];
            var observed = profile.Bins.Select((_, bin) => actual.GetValueOrDefault(bin)).ToArray();
            var bins = profile.Bins.Select((bin, i) => new DriftBin(bin.Label,
                profile.Rows == 0 ? 0 : bin.Count / (double)profile.Rows, rows == 0 ? 0 : observed[i] / (double)rows)).ToArray();
            return (PopulationStability.Index(profile.Bins.Select(b => b.Count).ToArray(), observed), bins);
        }

        // An input of a profile written by another version of this code, which no longer counts it, is left out.
        var inputs = reference.Inputs.Where(profile => MonitoredInput.ByInput.ContainsKey(profile.Input)).Select(profile =>
        {
            var (psi, bins) = Compare(profile);
            return new InputDrift(profile.Field, profile.Input, rows == 0 ? null : psi, StatusOf(psi), bins);
        }).ToArray();
        var (scorePsi, scoreBins) = Compare(reference.Score);
        var score = new ScoreDrift(rows == 0 ? null : scorePsi, StatusOf(scorePsi), scoreBins);
        var positiveRate = new PositiveRateDrift(rows == 0 ? null : decisions.GetValueOrDefault(1) / (double)rows, reference.PositiveRate);
        var status = !enough ? PopulationStability.InsufficientData
            : inputs.Select(i => i.Status).Append(score.Status).MaxBy(Severity)!;
        return new DriftResponse(from10, to10, version, rows, status, null, inputs, score, positiveRate,
            settings.MinimumRows, settings.PsiWarn, settings.PsiAlert);
    }

    /// <summary>
    /// The served version's profile as it was loaded; another version's read from MLflow and kept (its profile, or that
    /// it has none); null when the version is not registered, which is asked again next time.
    /// </summary>
    private async Task<(ReferenceProfile? Profile, string? Problem)?> ReferenceOfAsync(string version, CancellationToken cancellationToken)
    {
        if (state.Model is { } served && served.Version.Version == version)
        {
            return (served.Reference, served.ReferenceProblem);
        }

        if (_references.TryGetValue(version, out var known))
        {
            return known;
        }

        return await loader.LoadVersionReferenceAsync(version, cancellationToken) is { } loaded ? _references.GetOrAdd(version, loaded) : null;
    }

    private static int Severity(string status) => status switch
    {
        PopulationStability.Alert => 2,
        PopulationStability.Warn => 1,
        _ => 0,
    };
}
