using Diabetes.Web.Charts;
using Diabetes.Web.Clients;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Refit;

namespace Diabetes.Web.Pages;

/// <summary>The ingest service's data analysis: class balance, missing values, batches and their ledger.</summary>
public sealed class DataModel(IIngestApi ingest, ILogger<DataModel> logger) : PageModel
{
    public DataProfile? Profile { get; private set; }

    public string? ClassBalanceSvg { get; private set; }

    public string? MissingSvg { get; private set; }

    public string? BatchesSvg { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        try
        {
            Profile = await ingest.GetProfileAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is ApiException || ServiceFaults.IsUnreachable(exception))
        {
            logger.LogWarning(exception, "The ingest service cannot be read");
            Problem = "The ingest service cannot be reached right now, so there is no data analysis to show. Try again shortly.";
            return;
        }

        ClassBalanceSvg = DataCharts.ClassBalance(Profile.ClassBalance);
        MissingSvg = DataCharts.MissingShare(Profile.Columns);
        BatchesSvg = DataCharts.RowsPerBatch(Profile.Batches);
    }
}
