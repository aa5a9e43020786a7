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
            .WithSummary("The data analysis: per column missing values, distinct values, top values; class balance by split");

        return api;
    }

    public static async Task<Ok<PrepareResponse>> PrepareAsync(DatasetIngestion ingestion, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ingestion.PrepareAsync(cancellationToken));

    public static async Task<Ok<StatusResponse>> GetStatusAsync(DatasetReport report, CancellationToken cancellationToken) =>
        TypedResults.Ok(await report.StatusAsync(cancellationToken));

    public static async Task<Results<Ok<ProfileResponse>, ValidationProblem>> GetProfileAsync(
        DatasetReport report, CancellationToken cancellationToken, int top = DefaultTopValues)
    {
        if (top is < 1 or > MaxTopValues)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["top"] = [$"must be between 1 and {MaxTopValues}"],
            });
        }

        return TypedResults.Ok(await report.ProfileAsync(top, cancellationToken));
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
