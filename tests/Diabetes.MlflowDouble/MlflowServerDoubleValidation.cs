using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Diabetes.MlflowDouble;

/// <summary>
/// What the tracking server checks of what it is sent (mlflow/utils/validation.py, the same in 2.17.2 and 3.x unless
/// said): key names and lengths and dataset fields are refused with 400 INVALID_PARAMETER_VALUE, the whole request
/// with them; too long param and tag values are cut to the limit (MLFLOW_TRUNCATE_LONG_VALUES, on by default), not
/// refused; run statuses outside the RunStatus enum are dropped by the server's protobuf parsing.
/// </summary>
public sealed partial class MlflowServerDouble
{
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxEntityKeyLength = 250;

    private static readonly string[] RunStatuses = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

    private static readonly (string Field, int Limit)[] DatasetLimits =
        [("name", 500), ("digest", 36), ("source", 65_535), ("schema", 1_048_575), ("profile", 16_777_215)];

    /// <summary>Refuses the first bad key of a batch (metrics, params, tags), before anything is written.</summary>
    private void ValidateBatch(Request request)
    {
        foreach (var (field, keyName, entity) in new[] { ("metrics", "key", "Metric name"), ("params", "key", "Param key"), ("tags", "key", "Tag key") })
        {
            var entries = request.Array(field).OfType<JsonObject>().ToArray();
            for (var i = 0; i < entries.Length; i++)
            {
                ValidateKey((string?)entries[i][keyName] ?? "", $"{field}[{i}].{(field == "metrics" ? "name" : keyName)}", entity);
            }
        }
    }

    /// <summary>A key: at most 250 characters, the allowed characters, and no name that resolves to another as a path.</summary>
    private void ValidateKey(string key, string path, string entity)
    {
        if (key.Length > MaxEntityKeyLength)
        {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE", IsMlflow3
                ? $"'{(entity.StartsWith("Tag", StringComparison.Ordinal) ? path : entity)}' exceeds the maximum length of {MaxEntityKeyLength} characters"
                : $"{entity} '{key[..MaxEntityKeyLength]}' had length {key.Length}, which exceeded length limit of {MaxEntityKeyLength}");
        }

        if (!KeyCharacters().IsMatch(key))
        {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid value {JsonSerializer.Serialize(key)} for parameter '{path}' supplied: " +
                "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).");
        }

        var normalized = NormalizePath(key);
        if (key.Length > 0 && (normalized != key || normalized == "." || normalized.StartsWith("..", StringComparison.Ordinal) || normalized.StartsWith('/')))
        {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid value {JsonSerializer.Serialize(key)} for parameter '{path}' supplied: " +
                $"Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normalized}'");
        }
    }

    /// <summary>A dataset input's fields within their column sizes.</summary>
    private static void ValidateDataset(JsonObject dataset)
    {
        foreach (var (field, limit) in DatasetLimits)
        {
            if (((string?)dataset[field])?.Length > limit)
            {
                throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"'{field}' exceeds the maximum length of {limit} characters");
            }
        }
    }

    private static string Truncated(string value, int limit) => value.Length > limit ? value[..limit] : value;

    /// <summary>
    /// The status of a runs/update: a RunStatus name, or else none (the server's parser drops an unknown enum name and
    /// leaves the status as it was); a value that is not a string is refused, as the handler's type check does.
    /// </summary>
    private static string? RequestedStatus(JsonObject body) => body["status"] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => RunStatuses.Contains(text) ? text : null,
        var other => throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
            $"Invalid value {other.ToJsonString()} for parameter 'status' supplied:  Hint: Value was of type '{PythonType(other)}'. See the API docs for more information about request parameters."),
    };

    private static string PythonType(JsonNode node) => node switch
    {
        JsonValue value when value.GetValueKind() is JsonValueKind.Number => value.ToJsonString().Contains('.', StringComparison.Ordinal) ? "float" : "int",
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        JsonArray => "list",
        _ => "dict",
    };

    /// <summary>posixpath.normpath, for the names MLflow checks.</summary>
    private static string NormalizePath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".." || !path.StartsWith('/'))
            {
                parts.Add(part);
            }
        }

        var joined = string.Join('/', parts);
        return path.StartsWith('/') ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    [GeneratedRegex(@"^[/\w.\- :]*$")]
    private static partial Regex KeyCharacters();
}
