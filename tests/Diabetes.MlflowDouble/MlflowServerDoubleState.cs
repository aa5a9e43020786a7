using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Diabetes.MlflowDouble;

public sealed partial class MlflowServerDouble
{
    /// <summary>A request's parameters: the query string of a GET, the JSON body otherwise.</summary>
    private sealed class Request(IQueryCollection query, JsonObject body)
    {
        public string? Optional(string name)
        {
            if (query.TryGetValue(name, out var values) && values.Count > 0)
            {
                return values[0];
            }

            return body[name] switch
            {
                null => null,
                JsonValue value when value.TryGetValue<string>(out var text) => text,
                JsonNode node => node.ToJsonString(),
            };
        }

        public string Required(string name) => Optional(name) is { Length: > 0 } value
            ? value
            : throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
                $"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");

        public long? Long(string name) => Optional(name) is { } text && long.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : null;

        public bool Bool(string name) => body[name] is JsonValue value && value.TryGetValue<bool>(out var flag)
            ? flag
            : bool.TryParse(Optional(name), out var parsed) && parsed;

        public JsonArray Array(string name) => body[name] as JsonArray ?? [];

        public JsonObject Body => body;

        public List<string> Strings(string name) => query.TryGetValue(name, out var values) && values.Count > 0
            ? values.Where(v => v is not null).Select(v => v!).ToList()
            : Array(name).Select(v => (string)v!).ToList();

        public List<(string Key, string Value)> TagPairs(string name) =>
            Array(name).OfType<JsonObject>().Select(t => ((string)t["key"]!, (string?)t["value"] ?? "")).ToList();

        public List<TagState> Tags(string name) => TagPairs(name).Select(t => new TagState(t.Key, t.Value)).ToList();
    }

    private sealed record TagState(string Key, string Value);

    private static JsonArray TagsJson(IEnumerable<KeyValuePair<string, string>> tags) =>
        new(tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray());

    private sealed class ExperimentState(string id, string name, long created, List<TagState> tags)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public long Created { get; } = created;

        public JsonObject ToJson()
        {
            var json = new JsonObject
            {
                ["experiment_id"] = Id,
                ["name"] = Name,
                ["artifact_location"] = $"mlflow-artifacts:/{Id}",
                ["lifecycle_stage"] = "active",
                ["last_update_time"] = Created,
                ["creation_time"] = Created,
            };
            if (tags.Count > 0)
            {
                json["tags"] = TagsJson(tags.Select(t => KeyValuePair.Create(t.Key, t.Value)));
            }

            return json;
        }
    }

    private sealed record MetricState(string Key, double Value, long Timestamp, long Step)
    {
        public JsonObject ToJson() => new() { ["key"] = Key, ["value"] = Value, ["timestamp"] = Timestamp, ["step"] = Step };
    }

    private sealed class RunState(string id, string experimentId, string name, long startTime)
    {
        public string Id { get; } = id;

        public string ExperimentId { get; } = experimentId;

        public string Name { get; set; } = name;

        public long StartTime { get; } = startTime;

        public long? EndTime { get; set; }

        public string Status { get; set; } = "RUNNING";

        public string ArtifactUri => $"mlflow-artifacts:/{ExperimentId}/{Id}/artifacts";

        public List<MetricState> Metrics { get; } = [];

        // Insertion order is kept, as the server answers.
        public OrderedDictionary<string, string> Params { get; } = new(StringComparer.Ordinal);

        public OrderedDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public List<JsonObject> Inputs { get; } = [];

        /// <summary>The value the server reports for a key: the highest step, then the latest timestamp.</summary>
        public MetricState? LatestMetric(string key) =>
            Metrics.Where(m => m.Key == key).OrderByDescending(m => m.Step).ThenByDescending(m => m.Timestamp).FirstOrDefault();

        public JsonObject InfoJson()
        {
            var info = new JsonObject
            {
                ["run_uuid"] = Id,
                ["experiment_id"] = ExperimentId,
                ["run_name"] = Name,
                ["user_id"] = "",
                ["status"] = Status,
                ["start_time"] = StartTime,
            };
            if (EndTime is { } end)
            {
                info["end_time"] = end;
            }

            info["artifact_uri"] = ArtifactUri;
            info["lifecycle_stage"] = "active";
            info["run_id"] = Id;
            return info;
        }

        public JsonObject ToJson()
        {
            var data = new JsonObject();
            var latest = Metrics.Select(m => m.Key).Distinct().Select(k => LatestMetric(k)!).ToArray();
            if (latest.Length > 0)
            {
                data["metrics"] = new JsonArray(latest.Select(m => (JsonNode)m.ToJson()).ToArray());
            }

            if (Params.Count > 0)
            {
                data["params"] = TagsJson(Params);
            }

            if (Tags.Count > 0)
            {
                data["tags"] = TagsJson(Tags);
            }

            var run = new JsonObject { ["info"] = InfoJson(), ["data"] = data };
            if (Inputs.Count > 0)
            {
                run["inputs"] = new JsonObject { ["dataset_inputs"] = new JsonArray(Inputs.Select(i => (JsonNode)i.DeepClone()).ToArray()) };
            }

            return run;
        }
    }

    private sealed class ModelState(string name, string description, long created)
    {
        public string Name { get; } = name;

        public long Created { get; } = created;

        public long Updated { get; private set; } = created;

        public OrderedDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public OrderedDictionary<string, VersionState> Versions { get; } = new(StringComparer.Ordinal);

        public OrderedDictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);

        public void Touch(long now) => Updated = now;

        /// <summary>The newest version in each stage, in version order (what <c>latest_versions</c> holds).</summary>
        public IEnumerable<VersionState> LatestPerStage() => Versions.Values
            .GroupBy(v => v.Stage)
            .Select(g => g.MaxBy(v => int.Parse(v.Version, CultureInfo.InvariantCulture))!)
            .OrderBy(v => int.Parse(v.Version, CultureInfo.InvariantCulture));

        public JsonObject ToJson()
        {
            var json = new JsonObject
            {
                ["name"] = Name,
                ["creation_timestamp"] = Created,
                ["last_updated_timestamp"] = Updated,
                ["description"] = description,
            };
            var latest = LatestPerStage().Select(v => (JsonNode)v.ToJson(withAliases: false)).ToArray();
            if (latest.Length > 0)
            {
                json["latest_versions"] = new JsonArray(latest);
            }

            if (Tags.Count > 0)
            {
                json["tags"] = TagsJson(Tags);
            }

            if (Aliases.Count > 0)
            {
                json["aliases"] = new JsonArray(Aliases.Select(a => (JsonNode)new JsonObject { ["alias"] = a.Key, ["version"] = a.Value }).ToArray());
            }

            return json;
        }
    }

    private sealed class VersionState(ModelState model, string version, string source, string? runId, string description, long created)
    {
        public ModelState Model { get; } = model;

        public string Version { get; } = version;

        public string Source { get; } = source;

        public string? RunId { get; } = runId;

        public long Created { get; } = created;

        public long Updated { get; set; } = created;

        public string Stage { get; set; } = "None";

        public OrderedDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        /// <summary>The server fills <c>aliases</c> only where it looks them up (get, get by alias, transition).</summary>
        public JsonObject ToJson(bool withAliases)
        {
            var json = new JsonObject
            {
                ["name"] = Model.Name,
                ["version"] = Version,
                ["creation_timestamp"] = Created,
                ["last_updated_timestamp"] = Updated,
                ["current_stage"] = Stage,
                ["description"] = description,
                ["source"] = Source,
            };
            if (RunId is not null)
            {
                json["run_id"] = RunId;
            }

            json["status"] = "READY";
            if (Tags.Count > 0)
            {
                json["tags"] = TagsJson(Tags);
            }

            json["run_link"] = "";
            var aliases = Model.Aliases.Where(a => a.Value == Version).Select(a => (JsonNode)a.Key).ToArray();
            if (withAliases && aliases.Length > 0)
            {
                json["aliases"] = new JsonArray(aliases);
            }

            return json;
        }
    }
}
