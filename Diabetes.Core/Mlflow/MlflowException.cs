using System.Net;
using System.Text.Json;

namespace Diabetes.Core.Mlflow;

/// <summary>An error answer of the MLflow server: its HTTP status, <c>error_code</c> and <c>message</c>.</summary>
public class MlflowException(HttpStatusCode statusCode, string errorCode, string message, string? requestUri)
    : Exception($"MLflow answered {(int)statusCode} {errorCode} to {requestUri}: {message}")
{
    public const string ResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";
    public const string ResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";

    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>MLflow's <c>error_code</c>; for an answer without one (an HTML page), <c>HTTP_&lt;status&gt;</c>.</summary>
    public string ErrorCode { get; } = errorCode;

    public string ServerMessage { get; } = message;

    /// <summary>Reads an error answer into the exception type of its <c>error_code</c>.</summary>
    public static async Task<MlflowException> FromResponseAsync(HttpResponseMessage response)
    {
        var body = response.Content is null ? "" : await response.Content.ReadAsStringAsync();
        var (code, message) = Parse(body) ?? ($"HTTP_{(int)response.StatusCode}", body.Length > 500 ? body[..500] : body);
        var uri = response.RequestMessage?.RequestUri?.PathAndQuery;
        return code switch
        {
            ResourceDoesNotExist => new MlflowResourceNotFoundException(response.StatusCode, code, message, uri),
            ResourceAlreadyExists => new MlflowResourceAlreadyExistsException(response.StatusCode, code, message, uri),
            InvalidParameterValue => new MlflowInvalidParameterException(response.StatusCode, code, message, uri),
            _ => new MlflowException(response.StatusCode, code, message, uri),
        };
    }

    private static (string Code, string Message)? Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("error_code", out var code) && code.ValueKind == JsonValueKind.String
                ? (code.GetString()!, document.RootElement.TryGetProperty("message", out var message) ? message.GetString() ?? "" : "")
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary><c>RESOURCE_DOES_NOT_EXIST</c> (404): no such experiment, run, model or version.</summary>
public sealed class MlflowResourceNotFoundException(HttpStatusCode statusCode, string errorCode, string message, string? requestUri)
    : MlflowException(statusCode, errorCode, message, requestUri);

/// <summary><c>RESOURCE_ALREADY_EXISTS</c> (400): an experiment or registered model of that name exists.</summary>
public sealed class MlflowResourceAlreadyExistsException(HttpStatusCode statusCode, string errorCode, string message, string? requestUri)
    : MlflowException(statusCode, errorCode, message, requestUri);

/// <summary><c>INVALID_PARAMETER_VALUE</c> (400): a bad or missing parameter, and also a missing alias.</summary>
public sealed class MlflowInvalidParameterException(HttpStatusCode statusCode, string errorCode, string message, string? requestUri)
    : MlflowException(statusCode, errorCode, message, requestUri);

/// <summary>An <c>s3://</c> artifact root read or written by a service that has no object store configured.</summary>
public sealed class ObjectStoreNotConfiguredException(string message) : InvalidOperationException(message);
