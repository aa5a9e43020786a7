using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Diabetes.AppHost.Tests;

public enum TaskState
{
    Success,
    Skipped,
    Failed,
    UpstreamFailed,
}

/// <summary>One task of a replayed run: its state, the last answer it got, and why it skipped or failed.</summary>
public sealed record TaskRun(string TaskId, TaskState State, int? Status, string? Body, string? Message);

/// <summary>A replayed DAG run: its tasks in the order they ran, and the DAGs it triggered.</summary>
public sealed record DagRun(string DagId, IReadOnlyList<TaskRun> Tasks, IReadOnlyList<string> Triggered)
{
    public TaskRun this[string taskId] => Tasks.Single(t => t.TaskId == taskId);

    public bool Succeeded => Tasks.All(t => t.State is TaskState.Success or TaskState.Skipped);

    public override string ToString() => $"{DagId}: {string.Join(", ", Tasks.Select(t => $"{t.TaskId} {t.State}{(t.Message is null ? "" : $" ({t.Message})")}"))}";
}

/// <summary>
/// Runs a DAG file's tasks against the services, as Airflow would: in the dependency order the file gives
/// (<see cref="DagFiles.DescribeAsync"/>), each HTTP task with its connection, method and endpoint (XCom templates
/// rendered), each answer handed to the DAG's own response_check and response_filter (run by Python from the file).
/// Operators fail on an answer of 400 or more unless extra_options say otherwise; sensors poke until their check
/// passes, keep poking on 404 (HttpSensor's default) and fail on anything else. A skipped task skips what follows
/// it. Each task runs once: retries are Airflow's business, and a replay that needs one is a failure to look at.
/// </summary>
public sealed partial class DagReplay(IReadOnlyDictionary<string, HttpClient> connections, ITestOutputHelper output)
{
    /// <summary>How often a sensor pokes in the replay (the DAG's poke_interval is for production).</summary>
    public TimeSpan PokeInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SensorTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public async Task<DagRun> RunAsync(string dagId)
    {
        var description = await DagFiles.DescribeAsync(dagId);
        var runs = new List<TaskRun>();
        var xcoms = new Dictionary<string, string>();
        var triggered = new List<string>();
        foreach (var task in description["tasks"]!.AsArray().Select(t => t!.AsObject()))
        {
            var taskId = (string)task["task_id"]!;
            var upstream = task["upstream"]!.AsArray().Select(u => runs.Single(r => r.TaskId == (string)u!)).ToArray();
            var run = upstream.FirstOrDefault(u => u.State is TaskState.Failed or TaskState.UpstreamFailed) is { } failed
                ? new TaskRun(taskId, TaskState.UpstreamFailed, null, null, $"{failed.TaskId} failed")
                : upstream.FirstOrDefault(u => u.State == TaskState.Skipped) is { } skipped
                    ? new TaskRun(taskId, TaskState.Skipped, null, null, $"{skipped.TaskId} skipped")
                    : await RunTaskAsync(dagId, taskId, task, xcoms, triggered);
            output.WriteLine($"{dagId}.{taskId}: {run.State} {run.Status} {run.Message} {Shorten(run.Body)}");
            runs.Add(run);
        }

        return new DagRun(dagId, runs, triggered);
    }

    private async Task<TaskRun> RunTaskAsync(string dagId, string taskId, JsonObject task, Dictionary<string, string> xcoms, List<string> triggered)
    {
        switch ((string)task["operator"]!)
        {
            case "TriggerDagRunOperator":
                triggered.Add((string)task["trigger_dag_id"]!);
                return new TaskRun(taskId, TaskState.Success, null, null, $"triggered {task["trigger_dag_id"]}");
            case "HttpOperator":
                var (status, body) = await SendAsync(task, "POST", xcoms);
                if (status >= 400 && ChecksResponse(task))
                {
                    return new TaskRun(taskId, TaskState.Failed, status, body, $"HTTP {status}");
                }

                var (outcome, message) = await CheckAsync(dagId, task, status, body);
                switch (outcome)
                {
                    case CheckOutcome.Skipped:
                        return new TaskRun(taskId, TaskState.Skipped, status, body, message);
                    case CheckOutcome.Failed or CheckOutcome.ReturnedFalse:
                        return new TaskRun(taskId, TaskState.Failed, status, body, message);
                }

                xcoms[taskId] = task["response_filter"] is null ? body : await FilterAsync(dagId, taskId, status, body);
                return new TaskRun(taskId, TaskState.Success, status, body, null);
            case "HttpSensor":
                return await PokeAsync(dagId, taskId, task, xcoms);
            default:
                throw new NotSupportedException($"{dagId}.{taskId}: operator {task["operator"]} is not replayed.");
        }
    }

    private async Task<TaskRun> PokeAsync(string dagId, string taskId, JsonObject task, Dictionary<string, string> xcoms)
    {
        var deadline = DateTime.UtcNow + SensorTimeout;
        while (true)
        {
            var (status, body) = await SendAsync(task, "GET", xcoms);
            if (status >= 400 && ChecksResponse(task))
            {
                if (status != 404)
                {
                    return new TaskRun(taskId, TaskState.Failed, status, body, $"HTTP {status}");
                }
            }
            else
            {
                var (outcome, message) = await CheckAsync(dagId, task, status, body);
                switch (outcome)
                {
                    case CheckOutcome.Passed:
                        return new TaskRun(taskId, TaskState.Success, status, body, null);
                    case CheckOutcome.Skipped:
                        return new TaskRun(taskId, TaskState.Skipped, status, body, message);
                    case CheckOutcome.Failed:
                        return new TaskRun(taskId, TaskState.Failed, status, body, message);
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                return new TaskRun(taskId, TaskState.Failed, status, body, $"sensor timed out after {SensorTimeout}");
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

    /// <summary>The task's response_check (none passes) run on the answer, with the message of a skip or failure.</summary>
    private static async Task<(CheckOutcome Outcome, string? Message)> CheckAsync(string dagId, JsonObject task, int status, string body)
    {
        if (task["response_check"] is not { } check)
        {
            return (CheckOutcome.Passed, null);
        }

        var result = await DagFiles.CallAsync(dagId, (string)check!, status, body);
        return (string)result["outcome"]! switch
        {
            "skipped" => (CheckOutcome.Skipped, (string?)result["message"]),
            "failed" => (CheckOutcome.Failed, (string?)result["message"]),
            // Airflow tests the returned value for truth, as Python does; the DAGs' checks return booleans.
            _ when result["value"] is JsonValue value && value.GetValueKind() == JsonValueKind.True => (CheckOutcome.Passed, null),
            _ => (CheckOutcome.ReturnedFalse, "Response check returned False."),
        };
    }

    private static async Task<string> FilterAsync(string dagId, string taskId, int status, string body)
    {
        var result = await DagFiles.CallAsync(dagId, $"{taskId}.response_filter", status, body);
        var value = result["value"]!;
        return value.GetValueKind() == JsonValueKind.String ? (string)value! : value.ToJsonString();
    }

    private static bool ChecksResponse(JsonObject task) =>
        task["extra_options"]?["check_response"] is not JsonValue value || value.GetValue<bool>();

    private async Task<(int Status, string Body)> SendAsync(JsonObject task, string defaultMethod, IReadOnlyDictionary<string, string> xcoms)
    {
        var client = connections[(string)task["http_conn_id"]!];
        var endpoint = Render((string)task["endpoint"]!, xcoms);
        using var request = new HttpRequestMessage(new HttpMethod((string?)task["method"] ?? defaultMethod), endpoint);
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Render(string template, IReadOnlyDictionary<string, string> xcoms)
    {
        var rendered = XcomPull().Replace(template, match => xcoms[match.Groups["task"].Value]);
        return rendered.Contains("{{", StringComparison.Ordinal)
            ? throw new NotSupportedException($"The template of '{template}' is not replayed.")
            : rendered;
    }

    private static string Shorten(string? body) => body is null ? "" : body.Length <= 300 ? body : body[..300] + "…";

    [GeneratedRegex(@"\{\{\s*ti\.xcom_pull\(task_ids='(?<task>[^']+)'\)\s*\}\}")]
    private static partial Regex XcomPull();
}
