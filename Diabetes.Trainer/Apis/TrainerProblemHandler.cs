using System.Net;
using System.Net.Sockets;
using Diabetes.Core.Mlflow;
using Diabetes.Trainer.Promotion;
using Npgsql;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Diabetes.Trainer.Apis;

/// <summary>
/// The faults of other servers answered as such, never as a 500: MLflow, PostgreSQL or the object store down (503
/// with <c>Retry-After</c>), MLflow failing on a request or a model the artifact store cannot give (502). Anything
/// else is a bug of the trainer: a 500.
/// </summary>
public sealed class TrainerProblemHandler(IProblemDetailsService problemDetails, ILogger<TrainerProblemHandler> logger)
    : ProblemAnswerHandler(problemDetails, logger)
{
    protected override ProblemAnswer? Classify(Exception exception) => exception switch
    {
        ModelArtifactException artifact => new ProblemAnswer(StatusCodes.Status502BadGateway, "A model cannot be had from the artifact store", artifact.Message),
        NpgsqlException { IsTransient: true } => ProblemAnswer.Unavailable("PostgreSQL",
            $"CLEAN DATA's PostgreSQL did not answer: {exception.Message}"),
        // A gateway or overload answer passes; a 500 is MLflow failing on this request, which asking again will not mend.
        MlflowException { StatusCode: HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } busy =>
            ProblemAnswer.Unavailable("MLflow", $"MLflow answered {(int)busy.StatusCode} {busy.ErrorCode}, even when asked again."),
        MlflowException { StatusCode: >= HttpStatusCode.InternalServerError } failing => new ProblemAnswer(StatusCodes.Status502BadGateway,
            "MLflow failed", $"MLflow answered {(int)failing.StatusCode} {failing.ErrorCode}: {failing.ServerMessage}"),
        _ when Causes(exception).Any(e => e is Minio.Exceptions.MinioException) => ProblemAnswer.Unavailable("The object store",
            $"The object store holding the artifacts did not answer as expected: {exception.Message}"),
        _ when Causes(exception).Any(e => e is HttpRequestException or SocketException or TimeoutRejectedException or BrokenCircuitException) =>
            ProblemAnswer.Unavailable("MLflow", $"MLflow did not answer, even when asked again: {exception.Message}"),
        _ => null,
    };

    private static IEnumerable<Exception> Causes(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            yield return cause;
        }
    }
}
