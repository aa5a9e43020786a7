using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Diabetes.Trainer.Apis;

public static class TrainingsApi
{
    public static RouteGroupBuilder MapTrainingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/trainings").WithTags("Trainings");

        api.MapPost("/", Start)
            .WithName("StartTraining")
            .WithSummary("Start a training job on all CLEAN train rows present; a job already running is answered instead");
        api.MapGet("/{id}", Get)
            .WithName("GetTraining")
            .WithSummary("The state of a training job: candidates, best run, registered version, error");

        return api;
    }

    public static AcceptedAtRoute<TrainingJobResponse> Start(TrainingJobs jobs)
    {
        var (job, _) = jobs.StartOrGetRunning();
        return TypedResults.AcceptedAtRoute(job.Snapshot(), "GetTraining", new { id = job.Id });
    }

    public static Results<Ok<TrainingJobResponse>, ProblemHttpResult> Get(string id, TrainingJobs jobs) =>
        jobs.Find(id) is { } job
            ? TypedResults.Ok(job.Snapshot())
            : TypedResults.Problem(
                title: "No such training job",
                detail: $"No job '{id}' since this trainer started; finished jobs are also in MLflow (tag {TrainingWorkflow.JobTag}).",
                statusCode: StatusCodes.Status404NotFound);
}

public static class PromotionsApi
{
    public static RouteGroupBuilder MapPromotionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/promotions").WithTags("Promotions");

        api.MapPost("/", PromoteAsync)
            .WithName("Promote")
            .WithSummary("Champion against challenger on the current validation set; the better holds Production (alias and stage)");

        return api;
    }

    public static async Task<Results<Ok<PromotionResponse>, ProblemHttpResult>> PromoteAsync(PromotionService promotions, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await promotions.PromoteAsync(cancellationToken));
        }
        catch (PromotionRefusedException refused)
        {
            return TypedResults.Problem(title: "Nothing to promote", detail: refused.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }
}
