using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Diabetes.AppHost.Tests;

/// <summary>
/// The DAG files checked without Airflow, which cannot be installed here: they compile, their task graph (read with
/// Python's ast) calls exactly the services' contract in the designed order, their settings keep one run at a time
/// with retries and timeouts, their imports load on Airflow 3.x and on 2.10, and their own checks read the services'
/// answers as the contract says.
/// </summary>
public partial class DagFileTests
{
    public static TheoryData<string> DagIds => new() { "diabetes_data", "diabetes_training" };

    [Fact]
    public async Task EveryFileOfTheDagFolderCompiles()
    {
        var files = Directory.GetFiles(DagFiles.Folder, "*.py");

        // Compiled in memory: no __pycache__ beside the DAGs.
        await DagFiles.PythonAsync(["-c", "import sys\nfor path in sys.argv[1:]:\n    compile(open(path).read(), path, 'exec')", .. files], input: null);

        Assert.Equal(["diabetes_common.py", "diabetes_data.py", "diabetes_training.py"], files.Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task TheDataDagPreparesLoadsOneBatchCleansAndTriggersTraining()
    {
        var dag = await DagFiles.DescribeAsync("diabetes_data");

        Assert.Equal("diabetes_data", (string?)dag["dag"]!["dag_id"]);
        AssertTasks(dag,
            ("prepare_dataset", "HttpOperator", "ingest_api POST api/dataset/prepare", []),
            ("load_next_batch", "HttpOperator", "ingest_api POST api/batches/next", ["prepare_dataset"]),
            ("clean", "HttpOperator", "ingest_api POST api/clean", ["load_next_batch"]),
            ("trigger_training", "TriggerDagRunOperator", "diabetes_training", ["clean"]));
        // The skip sits on clean, which takes every RAW row not yet cleaned: a run after a failed clean makes it good.
        Assert.Null(Task(dag, "load_next_batch")["response_check"]);
        Assert.Equal("skip_when_nothing_was_cleaned", (string?)Task(dag, "clean")["response_check"]);
    }

    [Fact]
    public async Task TheTrainingDagStartsAJobWaitsForItAndPromotes()
    {
        var dag = await DagFiles.DescribeAsync("diabetes_training");

        Assert.Equal("diabetes_training", (string?)dag["dag"]!["dag_id"]);
        AssertTasks(dag,
            ("start_training", "HttpOperator", "trainer_api POST api/trainings", []),
            ("wait_for_training", "HttpSensor", "trainer_api GET api/trainings/{{ ti.xcom_pull(task_ids='start_training') }}", ["start_training"]),
            ("promote", "HttpOperator", "trainer_api POST api/promotions", ["wait_for_training"]));
        var sensor = Task(dag, "wait_for_training");
        Assert.Equal("training_finished", (string?)sensor["response_check"]);
        // Every answer, 404 included, reaches training_finished: HttpSensor alone would poke on 404 until its timeout.
        Assert.False((bool)sensor["extra_options"]!["check_response"]!);
        Assert.Equal("reschedule", (string?)sensor["mode"]);
        Assert.InRange((double)sensor["timeout"]!, 600, 4 * 3600);
        Assert.InRange((double)sensor["poke_interval"]!, 5, 300);
    }

    [Theory]
    [MemberData(nameof(DagIds))]
    public async Task OneRunAtATimeOnASchedule_WithRetriesBackOffAndTimeouts(string dagId)
    {
        var dag = (await DagFiles.DescribeAsync(dagId))["dag"]!;

        // A schedule from the environment with a sensible default, never a backlog, one run at a time.
        var schedule = dag["schedule"]!;
        Assert.Matches(@"^DIABETES_[A-Z]+_SCHEDULE$", (string?)schedule["env"]);
        Assert.Matches(CronOrPreset(), (string?)schedule["default"]);
        Assert.False((bool)dag["catchup"]!);
        Assert.Equal(1, (int)dag["max_active_runs"]!);
        Assert.NotNull(dag["start_date"]);
        Assert.NotNull(dag["dagrun_timeout"]);

        var defaults = dag["default_args"]!;
        Assert.InRange((int)defaults["retries"]!, 1, 10);
        Assert.True((bool)defaults["retry_exponential_backoff"]!);
        Assert.True((double)defaults["max_retry_delay"]! > (double)defaults["retry_delay"]!);
        Assert.InRange((double)defaults["execution_timeout"]!, 60, 3600);
    }

    [Theory]
    [MemberData(nameof(DagIds))]
    public async Task ImportsLoadOnAirflow3AndOn2_10(string dagId)
    {
        var imports = (await DagFiles.DescribeAsync(dagId))["imports"]!.AsArray()
            .Select(i => (File: (string)i!["file"]!, Line: (int)i["line"]!, Module: (string)i["module"]!, Name: (string?)i["name"], Guard: (string?)i["guard"], Try: (int?)i["try_line"]))
            .ToArray();

        foreach (var import in imports)
        {
            var where = $"{import.File}:{import.Line} imports {import.Name} from {import.Module}";
            if (OnlyInAirflow3.Any(prefix => IsModuleOrBelow(import.Module, prefix)))
            {
                // A 3.x path is tried first, and the same name comes from a 2.10 path when it is missing.
                Assert.True(import.Guard == "try", $"{where}, which Airflow 2.10 lacks, outside a try block");
                Assert.True(imports.Any(other => other.File == import.File && other.Try == import.Try && other.Name == import.Name
                    && other.Guard == "except ImportError" && !OnlyInAirflow3.Any(prefix => IsModuleOrBelow(other.Module, prefix))),
                    $"{where} without an Airflow 2.10 import of {import.Name} under `except ImportError`");
            }
            else if (OnlyInAirflow2.Any(prefix => IsModuleOrBelow(import.Module, prefix)))
            {
                Assert.True(import.Guard == "except ImportError", $"{where}, which Airflow 3 moved, other than as the fallback of a 3.x import");
            }
            else if (IsModuleOrBelow(import.Module, "airflow"))
            {
                Assert.True(InBothAirflows.Contains(import.Module), $"{where}, which is not known to exist in both Airflow 3.x and 2.10");
            }
            else
            {
                // Nothing beyond Airflow, its HTTP provider, the standard library and the DAG folder's own module.
                Assert.Contains(import.Module, new[] { "os", "datetime", "diabetes_common" });
            }
        }
    }

    [Theory]
    [MemberData(nameof(DagIds))]
    public async Task NoNameThatOneAirflowMajorLacks(string dagId)
    {
        var names = (await DagFiles.DescribeAsync(dagId))["names"]!.AsArray().Select(n => (string)n!).ToHashSet();

        Assert.Empty(names.Intersect(RemovedOrNotYetThere.Keys).Select(n => $"{n}: {RemovedOrNotYetThere[n]}"));
    }

    [Theory]
    [InlineData(200, """{"cleanedRows":14664,"excludedRows":336,"cleanRowsBySplit":{"train":29374,"validation":15242,"test":14740}}""", "returned", "true")]
    [InlineData(200, """{"cleanedRows":0,"excludedRows":0,"cleanRowsBySplit":{"train":69361,"validation":15242,"test":14740}}""", "skipped", null)]
    public async Task TheDataDagSkipsTheRestOnlyWhenNothingNewWasCleaned(int status, string answer, string outcome, string? value)
    {
        var result = await DagFiles.CallAsync("diabetes_data", "skip_when_nothing_was_cleaned", status, answer);

        Assert.Equal(outcome, (string?)result["outcome"]);
        Assert.Equal(value, result["value"]?.ToJsonString());
    }

    [Theory]
    [InlineData(200, """{"id":"a1","status":"Running"}""", "returned", "false", null)]
    [InlineData(200, """{"id":"a1","status":"Succeeded","registeredVersion":"3"}""", "returned", "true", null)]
    [InlineData(503, """{"title":"Service Unavailable"}""", "returned", "false", null)]
    // Fails the task without retries, with the job's error in the log.
    [InlineData(200, """{"id":"a1","status":"Failed","error":"CLEAN DATA has no train rows"}""", "failed", null, "Training job a1 failed: CLEAN DATA has no train rows")]
    // A job the trainer no longer knows (it restarted) fails the task at once instead of poking until the timeout.
    [InlineData(404, """{"title":"No such training job"}""", "failed", null, "The trainer does not know this training job")]
    public async Task TheTrainingDagWaitsForTheJobAndFailsAtOnceOnAFailedOrUnknownJob(int status, string answer, string outcome, string? value, string? message)
    {
        var result = await DagFiles.CallAsync("diabetes_training", "training_finished", status, answer);

        Assert.Equal(outcome, (string?)result["outcome"]);
        Assert.Equal(value, result["value"]?.ToJsonString());
        if (message is not null)
        {
            Assert.Contains(message, (string?)result["message"]);
        }
    }

    [Fact]
    public async Task TheStartedJobsIdIsWhatTheSensorAsksFor()
    {
        var result = await DagFiles.CallAsync("diabetes_training", "start_training.response_filter", 202, """{"id":"5f0c2a9e1b7d","status":"Running"}""");

        Assert.Equal("5f0c2a9e1b7d", (string?)result["value"]);
    }

    private static readonly string[] OnlyInAirflow3 = ["airflow.sdk", "airflow.providers.standard"];

    private static readonly string[] OnlyInAirflow2 = ["airflow.operators", "airflow.sensors", "airflow.utils.dates"];

    // The bare `airflow` package serves `from airflow import DAG`, the 2.10 fallback, which 3.x still answers.
    private static readonly HashSet<string> InBothAirflows =
        ["airflow", "airflow.exceptions", "airflow.providers.http.operators.http", "airflow.providers.http.sensors.http"];

    private static readonly Dictionary<string, string> RemovedOrNotYetThere = new()
    {
        ["schedule_interval"] = "removed in Airflow 3: use schedule=",
        ["SimpleHttpOperator"] = "removed from the HTTP provider: use HttpOperator",
        ["days_ago"] = "airflow.utils.dates is gone in Airflow 3",
        ["DummyOperator"] = "removed: EmptyOperator",
        ["execution_date"] = "renamed logical_date in Airflow 3",
        ["provide_context"] = "removed in Airflow 2",
        ["Asset"] = "Airflow 3 only (Dataset in 2.x)",
        ["Dataset"] = "renamed Asset in Airflow 3",
    };

    private static bool IsModuleOrBelow(string module, string prefix) =>
        module == prefix || module.StartsWith(prefix + ".", StringComparison.Ordinal);

    private static JsonObject Task(JsonObject dag, string taskId) =>
        dag["tasks"]!.AsArray().Single(t => (string?)t!["task_id"] == taskId)!.AsObject();

    /// <summary>The tasks in dependency order: id, operator, what it calls ("connection METHOD endpoint", or the DAG it triggers), upstream.</summary>
    private static void AssertTasks(JsonObject dag, params (string TaskId, string Operator, string Calls, string[] Upstream)[] expected)
    {
        var actual = dag["tasks"]!.AsArray().Select(t => (
            TaskId: (string)t!["task_id"]!,
            Operator: (string)t["operator"]!,
            Calls: t["trigger_dag_id"] is { } triggered ? (string)triggered! : $"{t["http_conn_id"]} {t["method"]} {t["endpoint"]}",
            Upstream: t["upstream"]!.AsArray().Select(u => (string)u!).ToArray()));

        Assert.Equal(expected.Select(Describe), actual.Select(Describe));

        static string Describe((string TaskId, string Operator, string Calls, string[] Upstream) task) =>
            $"{task.TaskId}: {task.Operator} {task.Calls} after [{string.Join(", ", task.Upstream)}]";
    }

    [GeneratedRegex(@"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")]
    private static partial Regex CronOrPreset();
}
