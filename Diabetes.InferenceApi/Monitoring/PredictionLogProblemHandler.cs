using Diabetes.Core.Data;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The prediction log's database down or missing, met by a request that reads or writes the log (outcomes, live
/// quality), is a 503 with <c>Retry-After</c>, not a 500. Predictions never meet it: they only queue.
/// </summary>
public sealed class PredictionLogProblemHandler(IProblemDetailsService problemDetails, ILogger<PredictionLogProblemHandler> logger)
    : ProblemAnswerHandler(problemDetails, logger)
{
    protected override ProblemAnswer? Classify(Exception exception) => exception switch
    {
        MissingDatabaseException missing => new ProblemAnswer(StatusCodes.Status503ServiceUnavailable, "The prediction log's database is missing",
            missing.Message, ProblemAnswer.DefaultRetryAfter),
        NpgsqlException { IsTransient: true } => ProblemAnswer.Unavailable("The prediction log",
            $"The prediction log's PostgreSQL did not answer: {exception.Message}"),
        _ => null,
    };
}
