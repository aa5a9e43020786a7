using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Diabetes.Testing;

public enum TaskState
{
    Success,
    Skipped,
    Failed,
    UpstreamFailed,
}

/// <summary>One task of a replayed run: its state, the last answer it got, and why it skipped or failed (or what it printed).</summary>
public sealed record TaskRun(string TaskId, TaskState State, int? Status, string? Body, string? Message);

/// <summary>A run a <c>TriggerDagRunOperator</c> asked for: the DAG and the conf it rendered.</summary>
public sealed record TriggeredRun(string DagId, JsonObject Conf);

/// <summary>A replayed DAG run: its tasks in the order they ran, and the runs it triggered.</summary>
public sealed record DagRun(string DagId, IReadOnlyList<TaskRun> Tasks, IReadOnlyList<TriggeredRun> Triggered)
{
    public TaskRun this[string taskId] => Tasks.Single(t => t.TaskId == taskId);

    public bool Succeeded => Tasks.All(t => t.State is TaskState.Success or TaskState.Skipped);

    public override string ToString() => $"{DagId}: {string.Join(", ", Tasks.Select(t => $"{t.TaskId} {t.State}{(t.Message is null ? "" : $" ({t.Message})")}"))}";
}

/// <summary>
/// Runs a DAG file's tasks against the services, as Airflow would: in the dependency order the file gives
/// (<see cref="DagFiles.DescribeAsync"/>), each HTTP task with its connection, method, endpoint, body and headers
/// (templates rendered: XComs and the run's conf), each answer handed to the DAG's own response_check and
/// response_filter, and each ShortCircuitOperator's callable run on the XComs (both by Python, from the file).
/// Operators fail on an answer of 400 or more unless extra_options say otherwise; sensors poke until their check
/// passes, keep poking on 404 (HttpSensor's default) and fail on anything else. A skipped task skips what follows
/// it, and so does a short circuit whose callable returned a falsy value. Each task runs once: retries are Airflow's
/// business, and a replay that needs one is a failure to look at.
/// </summary>
public sealed partial class DagReplay(IReadOnlyDictionary<string, HttpClient> connections, ITestOutputHelper output)
{
    /// <summary>How often a sensor pokes in the replay (the DAG's poke_interval is for production).</summary>
    public TimeSpan PokeInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SensorTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Replays one run of <paramref name="dagId"/> with <paramref name="conf"/> (a scheduled run's is empty).</summary>
    public async Task<DagRun> RunAsync(string dagId, JsonObject? conf = null)
    {
        var description = await DagFiles.DescribeAsync(dagId);
        var run = new RunState(dagId, conf ?? []);
        foreach (var task in description["tasks"]!.AsArray().Select(t => t!.AsObject()))
        {
            var taskId = (string)task["task_id"]!;
            var upstream = task["upstream"]!.AsArray().Select(u => run.Tasks.Single(r => r.TaskId == (string)u!)).ToArray();
            var taskRun = upstream.FirstOrDefault(u => u.State is TaskState.Failed or TaskState.UpstreamFailed) is { } failed
                ? new TaskRun(taskId, TaskState.UpstreamFailed, null, null, $"{failed.TaskId} failed")
                : upstream.FirstOrDefault(u => u.State == TaskState.Skipped || run.ShortCircuited.Contains(u.TaskId)) is { } skipped
                    ? new TaskRun(taskId, TaskState.Skipped, null, null, $"{skipped.TaskId} {(skipped.State == TaskState.Skipped ? "skipped" : "short-circuited")}")
                    : await RunTaskAsync(run, taskId, task);
            output.WriteLine($"{dagId}.{taskId}: {taskRun.State} {taskRun.Status} {taskRun.Message} {Shorten(taskRun.Body)}");
            run.Tasks.Add(taskRun);
        }

        return new DagRun(dagId, run.Tasks, run.Triggered);
    }

    /// <summary>What a run holds while it is replayed: its conf, its tasks so far, their XComs, the runs it triggered.</summary>
    private sealed class RunState(string dagId, JsonObject conf)
    {
        public string DagId { get; } = dagId;

        public JsonObject Conf { get; } = conf;

        public List<TaskRun> Tasks { get; } = [];

        public JsonObject Xcoms { get; } = [];

        public HashSet<string> ShortCircuited { get; } = [];

        public List<TriggeredRun> Triggered { get; } = [];
    }

    private async Task<TaskRun> RunTaskAsync(RunState run, string taskId, JsonObject task)
    {
        switch ((string)task["operator"]!)
        {
            case "TriggerDagRunOperator":
                var triggered = new TriggeredRun((string)task["trigger_dag_id"]!, RenderJson(task["conf"] ?? new JsonObject(), run).AsObject());
                run.Triggered.Add(triggered);
                return new TaskRun(taskId, TaskState.Success, null, null, $"triggered {triggered.DagId} with {triggered.Conf.ToJsonString()}");
            case "ShortCircuitOperator":
                var decision = await DagFiles.RunCallableAsync(run.DagId, taskId, run.Xcoms);
                var log = ((string?)decision["log"])?.Trim();
                if ((string)decision["outcome"]! != "returned")
                {
                    return new TaskRun(taskId, (string)decision["outcome"]! == "skipped" ? TaskState.Skipped : TaskState.Failed, null, null, (string?)decision["message"]);
                }

                run.Xcoms[taskId] = decision["value"]?.DeepClone();
                if (!IsTruthy(decision["value"]))
                {
                    run.ShortCircuited.Add(taskId);
                }

                return new TaskRun(taskId, TaskState.Success, null, null, log);
            case "HttpOperator":
                var answer = await SendAsync(task, "POST", run);
                if (answer.Status >= 400 && ChecksResponse(task))
                {
                    return new TaskRun(taskId, TaskState.Failed, answer.Status, answer.Body, $"HTTP {answer.Status}");
                }

                var (outcome, message) = await CheckAsync(run.DagId, task, answer);
                switch (outcome)
                {
                    case CheckOutcome.Skipped:
                        return new TaskRun(taskId, TaskState.Skipped, answer.Status, answer.Body, message);
                    case CheckOutcome.Failed or CheckOutcome.ReturnedFalse:
                        return new TaskRun(taskId, TaskState.Failed, answer.Status, answer.Body, message);
                }

                run.Xcoms[taskId] = task["response_filter"] is null
                    ? JsonValue.Create(answer.Body)
                    : (await DagFiles.CallAsync(run.DagId, $"{taskId}.response_filter", answer.Status, answer.Body, answer.Headers))["value"]?.DeepClone();
                return new TaskRun(taskId, TaskState.Success, answer.Status, answer.Body, null);
            case "HttpSensor":
                return await PokeAsync(run, taskId, task);
            default:
                throw new NotSupportedException($"{run.DagId}.{taskId}: operator {task["operator"]} is not replayed.");
        }
    }

    private async Task<TaskRun> PokeAsync(RunState run, string taskId, JsonObject task)
    {
        var deadline = DateTime.UtcNow + SensorTimeout;
        while (true)
        {
            var answer = await SendAsync(task, "GET", run);
            if (answer.Status >= 400 && ChecksResponse(task))
            {
                if (answer.Status != 404)
                {
                    return new TaskRun(taskId, TaskState.Failed, answer.Status, answer.Body, $"HTTP {answer.Status}");
                }
            }
            else
            {
                var (outcome, message) = await CheckAsync(run.DagId, task, answer);
                switch (outcome)
                {
                    case CheckOutcome.Passed:
                        return new TaskRun(taskId, TaskState.Success, answer.Status, answer.Body, null);
                    case CheckOutcome.Skipped:
                        return new TaskRun(taskId, TaskState.Skipped, answer.Status, answer.Body, message);
                    case CheckOutcome.Failed:
                        return new TaskRun(taskId, TaskState.Failed, answer.Status, answer.Body, message);
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                return new TaskRun(taskId, TaskState.Failed, answer.Status, answer.Body, $"sensor timed out after {SensorTimeout}");
            }

            await Task.Delay(PokeInterval);
        }
    }

    private enum CheckOutcome
    {
        Passed,
        ReturnedFalse,
        Skipped,
        Failed,
    }

    /// <summary>An HTTP answer: status, body and headers ("Name: value", the content's included).</summary>
    private sealed record Answer(int Status, string Body, IReadOnlyList<string> Headers);

    /// <summary>The task's response_check (none passes) run on the answer, with the message of a skip or failure.</summary>
    private static async Task<(CheckOutcome Outcome, string? Message)> CheckAsync(string dagId, JsonObject task, Answer answer)
    {
        if (task["response_check"] is not { } check)
        {
            return (CheckOutcome.Passed, null);
        }

        var result = await DagFiles.CallAsync(dagId, (string)check!, answer.Status, answer.Body, answer.Headers);
        return (string)result["outcome"]! switch
        {
            "skipped" => (CheckOutcome.Skipped, (string?)result["message"]),
            "failed" => (CheckOutcome.Failed, (string?)result["message"]),
            _ when IsTruthy(result["value"]) => (CheckOutcome.Passed, null),
            _ => (CheckOutcome.ReturnedFalse, "Response check returned False."),
        };
    }

    /// <summary>Python's truth of a returned value, which Airflow tests: false, None, 0, "" and empty collections are false.</summary>
    private static bool IsTruthy(JsonNode? value) => value switch
    {
        null => false,
        JsonArray array => array.Count > 0,
        JsonObject obj => obj.Count > 0,
        _ => value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => ((string)value!).Length > 0,
            JsonValueKind.Number => value.GetValue<double>() != 0,
            _ => false,
        },
    };

    private static bool ChecksResponse(JsonObject task) =>
        task["extra_options"]?["check_response"] is not JsonValue value || value.GetValue<bool>();

    private async Task<Answer> SendAsync(JsonObject task, string defaultMethod, RunState run)
    {
        var client = connections[(string)task["http_conn_id"]!];
        using var request = new HttpRequestMessage(new HttpMethod((string?)task["method"] ?? defaultMethod), Render((string)task["endpoint"]!, run));
        var headers = task["headers"]?.AsObject().ToDictionary(h => h.Key, h => Render((string)h.Value!, run)) ?? [];
        if (task["data"] is { } data)
        {
            // requests sends a string body as it is, with no Content-Type but the one the task's headers give.
            request.Content = new StringContent(Render((string)data!, run), Encoding.UTF8);
            request.Content.Headers.ContentType = headers.Remove("Content-Type", out var type) ? new(type) { CharSet = null } : null;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        return new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync(),
            [.. response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}")]);
    }

    /// <summary>
    /// A template as Airflow renders it, for the expressions these DAGs use: a task's XCom that is a string, and the run's
    /// conf as JSON. Anything else is refused rather than guessed.
    /// </summary>
    private static string Render(string template, RunState run)
    {
        var rendered = XcomPull().Replace(template, match => run.Xcoms[match.Groups["task"].Value] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? (string)value!
            : throw new NotSupportedException($"'{template}' renders an XCom that is not a string (Jinja would print its Python form)."));
        rendered = ConfAsJson().Replace(rendered, _ => run.Conf.ToJsonString());
        return rendered.Contains("{{", StringComparison.Ordinal)
            ? throw new NotSupportedException($"The template of '{template}' is not replayed.")
            : rendered;
    }

    /// <summary>Every string of <paramref name="node"/> rendered, as Airflow renders a templated dict.</summary>
    private static JsonNode RenderJson(JsonNode node, RunState run) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : (JsonNode?)RenderJson(p.Value, run)))),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => JsonValue.Create(Render((string)value!, run)),
        _ => node.DeepClone(),
    };

    private static string Shorten(string? body) => body is null ? "" : body.Length <= 300 ? body : body[..300] + "…";

    [GeneratedRegex(@"\{\{\s*ti\.xcom_pull\(task_ids='(?<task>[^']+)'\)\s*\}\}")]
    private static partial Regex XcomPull();

    [GeneratedRegex(@"\{\{\s*\(dag_run\.conf or \{\}\)\s*\|\s*tojson\s*\}\}")]
    private static partial Regex ConfAsJson();
}
