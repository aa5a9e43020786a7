using Microsoft.AspNetCore.Http.HttpResults;

namespace Diabetes.Ingest.Apis;

public static class DatasetApi
{
    private const int DefaultTopValues = 5;
    private const int MaxTopValues = 50;

    public static RouteGroupBuilder MapDatasetApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/dataset").WithTags("Dataset");

        api.MapPost("/prepare", PrepareAsync)
            .WithName("PrepareDataset")
            .WithSummary("Fetch the source, store it, split it and load validation and test into RAW DATA");
        api.MapGet("/status", GetStatusAsync)
            .WithName("GetDatasetStatus")
            .WithSummary("The ledger and the row counts by split in RAW and CLEAN DATA");
        api.MapGet("/profile", GetProfileAsync)
            .WithName("GetDatasetProfile")
            .WithSummary("The data analysis: per column missing values, distinct values, top values; class balance by split (JSON, or Markdown with ?format=markdown)");

        return api;
    }

    public static async Task<Ok<PrepareResponse>> PrepareAsync(DatasetIngestion ingestion, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ingestion.PrepareAsync(cancellationToken));

    public static async Task<Ok<StatusResponse>> GetStatusAsync(DatasetReport report, CancellationToken cancellationToken) =>
        TypedResults.Ok(await report.StatusAsync(cancellationToken));

    public static async Task<Results<Ok<ProfileResponse>, ContentHttpResult, ValidationProblem>> GetProfileAsync(
        DatasetReport report, CancellationToken cancellationToken, int top = DefaultTopValues, string format = "json")
    {
        var errors = new Dictionary<string, string[]>();
        if (top is < 1 or > MaxTopValues)
        {
            errors["top"] = [$"must be between 1 and {MaxTopValues}"];
        }

        if (format is not ("json" or "markdown"))
        {
            errors["format"] = ["must be json or markdown"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var profile = await report.ProfileAsync(top, cancellationToken);
        return format == "markdown"
            ? TypedResults.Text(ProfileReport.ToMarkdown(profile), ProfileReport.MediaType)
            : TypedResults.Ok(profile);
    }
}

public static class BatchesApi
{
    public static RouteGroupBuilder MapBatchesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/batches").WithTags("Batches");

        api.MapPost("/next", LoadNextAsync)
            .WithName("LoadNextBatch")
            .WithSummary("Load the next train batch into RAW DATA; done when none is left");

        return api;
    }

    public static async Task<Ok<NextBatchResponse>> LoadNextAsync(DatasetIngestion ingestion, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ingestion.LoadNextBatchAsync(cancellationToken));
}

public static class CleaningApi
{
    public static RouteGroupBuilder MapCleaningApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/clean").WithTags("Cleaning");

        api.MapPost("/", CleanAsync)
            .WithName("CleanDataset")
            .WithSummary("Clean the RAW batches not yet in CLEAN DATA");

        return api;
    }

    public static async Task<Ok<CleanResponse>> CleanAsync(DatasetCleaning cleaning, CancellationToken cancellationToken) =>
        TypedResults.Ok(await cleaning.CleanAsync(cancellationToken));
}
