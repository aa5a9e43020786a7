using System.Globalization;
using Diabetes.Web.Charts;
using Diabetes.Web.Clients;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;

namespace Diabetes.Web.Pages;

/// <summary>A window the page offers: its value in the query, its name, and its length up to the end of the current hour.</summary>
public sealed record MonitoringWindow(string Key, string Label, TimeSpan Length);

/// <summary>
/// What the inference API's prediction log says of the models it served: traffic per hour and version, one version's
/// drift against its training data and its live quality from outcomes. Each part says plainly why it is empty.
/// </summary>
public sealed class MonitoringModel(IInferenceApi inference, TimeProvider timeProvider, ILogger<MonitoringModel> logger) : PageModel
{
    public static readonly IReadOnlyList<MonitoringWindow> Windows =
    [
        new("24h", "last 24 hours", TimeSpan.FromHours(24)),
        new("7d", "last 7 days", TimeSpan.FromDays(7)),
    ];

    /// <summary>The version asked for; default: the one served, else the newest with traffic.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Version { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Window { get; set; }

    public MonitoringWindow ChosenWindow { get; private set; } = Windows[0];

    /// <summary>Set when the inference API cannot be reached: nothing else is known then.</summary>
    public string? Unreachable { get; private set; }

    public string? ServedVersion { get; private set; }

    /// <summary>Why no model is served (the API's 503), or null.</summary>
    public ApiProblem? NoModel { get; private set; }

    /// <summary>Why the log cannot be read (off, or its database down), or another refusal of the traffic query.</summary>
    public ApiProblem? LogProblem { get; private set; }

    public Traffic? Traffic { get; private set; }

    /// <summary>The version whose drift and live quality are shown.</summary>
    public string? ChosenVersion { get; private set; }

    public IReadOnlyList<string> VersionChoices { get; private set; } = [];

    public Drift? Drift { get; private set; }

    public ApiProblem? DriftProblem { get; private set; }

    public Performance? Performance { get; private set; }

    public ApiProblem? PerformanceProblem { get; private set; }

    public string? PsiSvg { get; private set; }

    public string? PredictionsSvg { get; private set; }

    public string? PositiveRateSvg { get; private set; }

    public string? RocAucSvg { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        ChosenWindow = Windows.FirstOrDefault(w => w.Key == Window) ?? Windows[0];
        try
        {
            await ReadAsync(cancellationToken);
        }
        catch (Exception exception) when (ServiceFaults.IsUnreachable(exception))
        {
            logger.LogWarning(exception, "The inference API cannot be reached");
            Unreachable = "The inference service cannot be reached right now, so there is nothing to show. Try again shortly.";
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var (served, modelProblem) = await AskAsync(inference.GetModelAsync(cancellationToken));
        ServedVersion = served?.Version;
        NoModel = modelProblem;

        // Whole hours, as the traffic is counted: the window ends with the current hour, and drift is asked for the same.
        var now = timeProvider.GetUtcNow().UtcTicks;
        var to = new DateTimeOffset(now - now % TimeSpan.TicksPerHour, TimeSpan.Zero).AddHours(1);
        var (from, until) = (Iso(to - ChosenWindow.Length), Iso(to));
        (Traffic, LogProblem) = await AskAsync(inference.GetTrafficAsync(from, until, cancellationToken));
        if (Traffic is null)
        {
            return;
        }

        ChosenVersion = Version ?? ServedVersion ?? Traffic.Versions.LastOrDefault()?.Version;
        VersionChoices = [.. new[] { ServedVersion, ChosenVersion }.Concat(Traffic.Versions.Select(v => v.Version)).OfType<string>()
            .Distinct().OrderByDescending(v => int.TryParse(v, CultureInfo.InvariantCulture, out var number) ? number : 0)];
        if (ChosenVersion is { } version)
        {
            var drift = AskAsync(inference.GetDriftAsync(version, from, until, cancellationToken));
            var performance = AskAsync(inference.GetPerformanceAsync(version, cancellationToken));
            await Task.WhenAll(drift, performance);
            (Drift, DriftProblem) = await drift;
            (Performance, PerformanceProblem) = await performance;
        }

        Draw();
    }

    private void Draw()
    {
        if (Traffic is { Predictions: > 0 } traffic)
        {
            PredictionsSvg = MonitoringCharts.PredictionsPerHour(traffic);
            PositiveRateSvg = MonitoringCharts.PositiveRatePerHour(traffic, Drift);
        }

        if (Drift is { Rows: > 0 } drift && drift.Inputs.Any(i => i.Psi is not null))
        {
            PsiSvg = MonitoringCharts.Psi(drift);
        }

        if (Performance is { RocAuc: { } live } performance)
        {
            RocAucSvg = MonitoringCharts.RocAuc(performance, live);
        }
    }

    /// <summary>
    /// The answer, or the API's refusal (problem details); a request that never got an answer is thrown, for the page
    /// to say the service cannot be reached.
    /// </summary>
    private static async Task<(T? Answer, ApiProblem? Problem)> AskAsync<T>(Task<IApiResponse<T>> call) where T : class
    {
        using var response = await call;
        return response switch
        {
            { IsSuccessful: true, Content: { } answer } => (answer, null),
            { Error: ApiException refusal } => (null, ApiProblem.Read(refusal)),
            { Error: { } error } => throw error,
            _ => (null, new ApiProblem("An empty answer", "The inference service answered without a body.", new Dictionary<string, string[]>())),
        };
    }

    // The alt text of the charts: what each shows, in words.

    public string PsiAlt(Drift drift)
    {
        var judged = drift.Inputs.Where(i => i.Psi is not null).OrderByDescending(i => i.Psi).ToArray();
        var top = judged.Take(3).Select(i => $"{i.Name} {MonitoringCharts.Number(i.Psi!.Value)} ({i.Status})");
        return $"PSI of {judged.Length} inputs of version {drift.Version}, against warn {MonitoringCharts.Number(drift.PsiWarn)} and alert " +
               $"{MonitoringCharts.Number(drift.PsiAlert)}: {StatusCounts(drift)}; highest {string.Join(", ", top)}.";
    }

    public static string StatusCounts(Drift drift) => string.Join(", ",
        drift.Inputs.GroupBy(i => i.Status).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));

    public static string TrafficAlt(Traffic traffic, string what) =>
        $"{what} per hour from {Time(traffic.From)} to {Time(traffic.To)}: " +
        string.Join("; ", traffic.Versions.Select(v => $"version {v.Version}, {Count(v.Predictions)} predictions in {v.Hours.Count} hours, {Percent(v.PositiveRate)} predicted readmitted"));

    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A metric of a version's run (<c>roc_auc</c> of its <c>test</c> metrics), or null when it has none.</summary>
    public static double? Metric(IReadOnlyDictionary<string, double> metrics, string name) => metrics.TryGetValue(name, out var value) ? value : null;

    public static string Percent(double? share) => share?.ToString("P1", CultureInfo.InvariantCulture) ?? "–";

    public static string Number(double? value) => value is { } number ? MonitoringCharts.Number(number) : "–";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>ROC-AUC with its interval, as the page writes it: 0.712 [0.650, 0.774].</summary>
    public static string WithInterval(RocAuc auc) =>
        auc is { Low: { } low, High: { } high } ? $"{Number(auc.Value)} [{Number(low)}, {Number(high)}]" : Number(auc.Value);

    /// <summary>What a refusal says, on one line.</summary>
    public static string Say(ApiProblem problem) =>
        string.Join(" ", new[] { problem.Title is { } title ? $"{title}." : null, problem.Detail }
            .Concat(problem.Errors.Select(e => $"{e.Key}: {string.Join("; ", e.Value)}.")).OfType<string>());

    private static string Iso(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);
}
