using System.Globalization;
using System.Text.Json.Nodes;

namespace Diabetes.Testing;

/// <summary>The DAG files of <c>airflow/dags</c>, read by <c>airflow/tools/dag_graph.py</c> (Python's ast, no Airflow needed).</summary>
public static class DagFiles
{
    public static string Folder { get; } = Path.Combine(TestData.RepositoryRoot, "airflow", "dags");

    private static string Tool { get; } = Path.Combine(TestData.RepositoryRoot, "airflow", "tools", "dag_graph.py");

    public static string PathOf(string dagId) => Path.Combine(Folder, $"{dagId}.py");

    /// <summary>The DAG's arguments, tasks in dependency order and imports, as the tool prints them.</summary>
    public static async Task<JsonObject> DescribeAsync(string dagId) =>
        JsonNode.Parse(await PythonAsync([Tool, "describe", PathOf(dagId)], input: null))!.AsObject();

    /// <summary>
    /// Runs <paramref name="function"/> of the DAG file (a response_check, or "TASK.response_filter") on an answer with
    /// <paramref name="headers"/> ("Name: value"), and answers {"outcome": "returned"|"skipped"|"failed", "value", "message", "log"}.
    /// </summary>
    public static async Task<JsonObject> CallAsync(string dagId, string function, int status, string body, IEnumerable<string>? headers = null) =>
        JsonNode.Parse(await PythonAsync([Tool, "call", PathOf(dagId), function, status.ToString(CultureInfo.InvariantCulture), .. headers ?? []], body))!.AsObject();

    /// <summary>
    /// Runs the python_callable of the DAG's task <paramref name="taskId"/> (a ShortCircuitOperator) with the XComs of
    /// other tasks (<c>{"task_id": value}</c>), and answers {"outcome", "value", "message", "log"}: what it returned and printed.
    /// </summary>
    public static async Task<JsonObject> RunCallableAsync(string dagId, string taskId, JsonObject xcoms) =>
        JsonNode.Parse(await PythonAsync([Tool, "run", PathOf(dagId), taskId], xcoms.ToJsonString()))!.AsObject();

    /// <summary>Runs python3 with <paramref name="arguments"/> and answers its standard output; fails the test on a non-zero exit.</summary>
    public static async Task<string> PythonAsync(IReadOnlyList<string> arguments, string? input)
    {
        // No __pycache__ beside the DAGs.
        var python = await TestProcess.RunAsync("python3", arguments, input, environment: new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" });
        Assert.True(python.ExitCode == 0, $"python3 {string.Join(' ', arguments)} exited with {python.ExitCode}: {python.Errors}");
        return python.Output;
    }
}
