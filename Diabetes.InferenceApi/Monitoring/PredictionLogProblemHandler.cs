using Diabetes.Core.Data;
using Npgsql;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The prediction log's database down, missing or refusing, met by a request that reads or writes the log (outcomes,
/// live quality, drift), is a 503 with <c>Retry-After</c>, not a 500; so is MLflow down when a version's metrics or
/// profile must be read from it. Predictions never meet either: they only queue.
/// </summary>
public sealed class PredictionLogProblemHandler(IProblemDetailsService problemDetails, ILogger<PredictionLogProblemHandler> logger)
    : ProblemAnswerHandler(problemDetails, logger)
{
    protected override ProblemAnswer? Classify(Exception exception) => exception switch
    {
        MissingDatabaseException missing => new ProblemAnswer(StatusCodes.Status503ServiceUnavailable, "The prediction log's database is missing",
            missing.Message, ProblemAnswer.DefaultRetryAfter),
        NpgsqlException failure when !PostgresErrors.IsDataError(failure) => ProblemAnswer.Unavailable("The prediction log",
            $"The prediction log's PostgreSQL cannot answer: {exception.Message}"),
        Core.Mlflow.MlflowException or HttpRequestException => ProblemAnswer.Unavailable("MLflow",
            $"MLflow did not answer what this needs from it: {exception.Message}"),
        _ => null,
    };
}

/// <summary>How the prediction log tells PostgreSQL's errors apart.</summary>
public static class PostgresErrors
{
    /// <summary>
    /// An error of the data itself (SQLSTATE classes 22 and 23: a value out of range, a constraint broken): sending
    /// the same rows again fails the same way, unlike a server that is down, restarting, refusing connections or not
    /// yet migrated.
    /// </summary>
    public static bool IsDataError(Exception exception) =>
        exception is PostgresException { SqlState: ['2', '2' or '3', ..] };
}
