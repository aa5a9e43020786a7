using Diabetes.Trainer.Promotion;
using Diabetes.Trainer.Training;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Diabetes.Trainer.Apis;

public static class TrainingsApi
{
    public static RouteGroupBuilder MapTrainingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/trainings").WithTags("Trainings");

        api.MapPost("/", Start)
            .WithName("StartTraining")
            .WithSummary("Start a training job on all CLEAN train rows present (skipped when they are what the newest version " +
                "was trained on, unless {\"force\": true}; a \"reason\" is kept on its MLflow run); a job already running is answered instead");
        api.MapGet("/{id}", GetAsync)
            .WithName("GetTraining")
            .WithSummary("The state of a training job: candidates, best run, registered version, error");

        return api;
    }

    public static Results<AcceptedAtRoute<TrainingJobResponse>, ValidationProblem> Start(
        TrainingJobs jobs, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] TrainingRequest? request)
    {
        if (request?.Reason?.Length > TrainingRequest.MaxReasonLength)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["reason"] = [$"{request.Reason.Length} characters; at most {TrainingRequest.MaxReasonLength}"] },
                title: "The training request is not valid", detail: "No job was started.");
        }

        var (job, _) = jobs.StartOrGetRunning(request ?? new TrainingRequest());
        return TypedResults.AcceptedAtRoute(job.Snapshot(), "GetTraining", new { id = job.Id });
    }

    /// <summary>A job of this process, else as MLflow keeps it (a job from before a restart, or of another trainer).</summary>
    public static async Task<Results<Ok<TrainingJobResponse>, ProblemHttpResult>> GetAsync(string id, TrainingJobs jobs, TrainingJobHistory history,
        CancellationToken cancellationToken) =>
        (jobs.Find(id)?.Snapshot() ?? (TrainingJobs.IsWellFormedId(id) ? await history.FindAsync(id, cancellationToken) : null)) is { } job
            ? TypedResults.Ok(job)
            : TypedResults.Problem(
                title: "No such training job",
                detail: $"No training job '{id}', in this trainer or in MLflow (tag {TrainingWorkflow.JobTag}).",
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
