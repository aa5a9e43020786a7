using System.Globalization;
using Diabetes.Web.Clients;
using Diabetes.Web.Forms;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;

namespace Diabetes.Web.Pages;

/// <summary>
/// What a prediction showed: the probability, the decision and the model version that made it, and why: the fields
/// that raised the risk most and those that lowered it most, each as "field: value" with its contribution.
/// </summary>
public sealed record PredictionView(Prediction Prediction, ServedModel? Model)
{
    /// <summary>How many fields of each sign are shown.</summary>
    public const int Shown = 5;

    public IReadOnlyList<(string Label, double Contribution)> Raised => Largest(raised: true);

    public IReadOnlyList<(string Label, double Contribution)> Lowered => Largest(raised: false);

    private (string Label, double Contribution)[] Largest(bool raised) => Prediction.Explanation?.Contributions
        .Where(c => raised ? c.Contribution > 0 : c.Contribution < 0)
        .OrderByDescending(c => Math.Abs(c.Contribution))
        .Take(Shown)
        .Select(c => (EncounterForm.Describe(c.Field, c.Value), c.Contribution))
        .ToArray() ?? [];
}

/// <summary>The prediction form: a patient's values in, the Production model's answer out.</summary>
public sealed class IndexModel(IInferenceApi inference, ILogger<IndexModel> logger) : PageModel
{
    [BindProperty]
    public Dictionary<string, string?> Fields { get; set; } = EncounterForm.TypicalValues();

    public PredictionView? Result { get; private set; }

    /// <summary>The API's message for each bad field, shown beside it.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>Why there is no prediction, when the reason is not a field (no model yet, the API down).</summary>
    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await inference.PredictAsync(EncounterForm.ToRequest(Fields), cancellationToken);
            if (response is { IsSuccessful: true, Content: { } prediction })
            {
                Result = new PredictionView(prediction, await ModelOfAsync(prediction.Model.Version, cancellationToken));
                return;
            }

            switch (response.Error)
            {
                case { InnerException: OperationCanceledException } when cancellationToken.IsCancellationRequested:
                    // The visitor left: nobody to answer.
                    break;
                case { } error when ServiceFaults.IsUnreachable(error):
                    SayUnreachable(error);
                    break;
                case ApiException { StatusCode: >= System.Net.HttpStatusCode.BadRequest } refusal:
                    var problem = ApiProblem.Read(refusal);
                    Errors = problem.Errors;
                    Problem = problem.Errors.Count > 0
                        ? "Some values are not accepted; see the messages beside them."
                        : $"No prediction: {problem.Title}. {problem.Detail}";
                    break;
                default:
                    // The API answered something the page cannot read: not the API being down.
                    logger.LogError(response.Error, "The inference API's answer cannot be read");
                    Problem = "No prediction: the inference service gave an answer this page cannot read. Your values are kept.";
                    break;
            }
        }
        catch (Exception exception) when (ServiceFaults.IsUnreachable(exception))
        {
            SayUnreachable(exception);
        }
    }

    private void SayUnreachable(Exception exception)
    {
        logger.LogWarning(exception, "The inference API cannot be reached");
        Problem = "No prediction: the inference service cannot be reached right now. Your values are kept; try again shortly.";
    }

    public static string Percent(double probability) => probability.ToString("P1", CultureInfo.InvariantCulture);

    /// <summary>Where the version that answered came from; unknown if the API has swapped since.</summary>
    private async Task<ServedModel?> ModelOfAsync(string version, CancellationToken cancellationToken)
    {
        try
        {
            using var model = await inference.GetModelAsync(cancellationToken);
            return model is { IsSuccessful: true, Content: { } served } && served.Version == version ? served : null;
        }
        catch (Exception exception) when (ServiceFaults.IsUnreachable(exception))
        {
            return null;
        }
    }
}
