using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Diabetes.Testing;

namespace Diabetes.AppHost.Tests;

/// <summary>
/// The DAG files checked without Airflow, which cannot be installed here: they compile, their task graph (read with
/// Python's ast) calls exactly the services' contract in the designed order, their settings keep one run at a time
/// with retries and timeouts, their imports load on Airflow 3.x and on 2.10, and their own checks read the services'
/// answers as the contract says.
/// </summary>
public partial class DagFileTests
{
    public static TheoryData<string> DagIds => new() { "diabetes_data", "diabetes_training", "diabetes_monitoring" };

    [Fact]
    public async Task EveryFileOfTheDagFolderCompiles()
    {
        var files = Directory.GetFiles(DagFiles.Folder, "*.py");

        // Compiled in memory: no __pycache__ beside the DAGs.
        await DagFiles.PythonAsync(["-c", "import sys\nfor path in sys.argv[1:]:\n    compile(open(path).read(), path, 'exec')", .. files], input: null);

        Assert.Equal(["diabetes_common.py", "diabetes_data.py", "diabetes_monitoring.py", "diabetes_training.py"], files.Select(Path.GetFileName).Order());
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
        // The run's conf is the request, as JSON: a monitoring run's reason reaches the job's MLflow run.
        var start = Task(dag, "start_training");
        Assert.Equal("{{ (dag_run.conf or {}) | tojson }}", (string?)start["data"]);
        Assert.Equal("application/json", (string?)start["headers"]!["Content-Type"]);
        var sensor = Task(dag, "wait_for_training");
        Assert.Equal("training_finished", (string?)sensor["response_check"]);
        // Every answer, 404 included, reaches training_finished: HttpSensor alone would poke on 404 until its timeout.
        Assert.False((bool)sensor["extra_options"]!["check_response"]!);
        Assert.Equal("reschedule", (string?)sensor["mode"]);
        Assert.InRange((double)sensor["timeout"]!, 600, 4 * 3600);
        Assert.InRange((double)sensor["poke_interval"]!, 5, 300);
    }

    [Fact]
    public async Task TheMonitoringDagReadsDriftAndLiveQualityAndTriggersTrainingWithTheReasonItDecides()
    {
        var dag = await DagFiles.DescribeAsync("diabetes_monitoring");

        Assert.Equal("diabetes_monitoring", (string?)dag["dag"]!["dag_id"]);
        Assert.Equal("@hourly", (string?)dag["dag"]!["schedule"]!["default"]);
        AssertTasks(dag,
            ("check_drift", "HttpOperator", "inference_api GET api/monitoring/drift", []),
            ("check_performance", "HttpOperator", "inference_api GET api/monitoring/performance", []),
            ("decide_training", "ShortCircuitOperator", "decide_training", ["check_drift", "check_performance"]),
            ("trigger_training", "TriggerDagRunOperator", "diabetes_training", ["decide_training"]));
        // Every answer reaches monitoring_answered, which tells a 503 that is a state from an outage.
        foreach (var check in new[] { "check_drift", "check_performance" })
        {
            Assert.False((bool)Task(dag, check)["extra_options"]!["check_response"]!);
            Assert.Equal("monitoring_answered", (string?)Task(dag, check)["response_check"]);
        }

        Assert.Equal("{{ ti.xcom_pull(task_ids='decide_training') }}", (string?)Task(dag, "trigger_training")["conf"]!["reason"]);
    }

    [Theory]
    [InlineData(200, "", """{"version":"1","rows":0,"status":"insufficient data","inputs":[]}""", "returned", "true", null)]
    // No version in Production, or the prediction log off: nothing to monitor, the run is skipped and says why.
    [InlineData(503, "", """{"title":"No model in Production yet","detail":"No version of diabetes-readmission holds Production; train and promote one.","state":"noProduction"}""",
        "skipped", null, "Nothing to monitor: No model in Production yet. No version of diabetes-readmission holds Production")]
    [InlineData(503, "", """{"title":"The prediction log is off","detail":"ConnectionStrings:monitoring is not set.","state":"logOff"}""",
        "skipped", null, "Nothing to monitor: The prediction log is off.")]
    // Serving broken for a while (the model being loaded or refused, MLflow unreachable), the log's PostgreSQL or MLflow
    // down behind the API, a 503 without a state, or anything else: the try fails, and Airflow retries it.
    [InlineData(503, "Retry-After: 10", """{"title":"The Production model is not loaded","detail":"Version 3 holds Production and is being loaded.","state":"productionLoading"}""", "returned", "false", null)]
    [InlineData(503, "Retry-After: 10", """{"title":"The Production model is not loaded","detail":"No model is loaded, and MLflow has been unreachable.","state":"mlflowUnreachable"}""", "returned", "false", null)]
    [InlineData(503, "Retry-After: 10", """{"title":"The prediction log is unavailable","detail":"The prediction log's PostgreSQL cannot answer."}""", "returned", "false", null)]
    [InlineData(503, "", "Service Unavailable", "returned", "false", null)]
    [InlineData(500, "", """{"title":"An error occurred"}""", "returned", "false", null)]
    public async Task TheMonitoringDagSkipsWhenThereIsNothingToMonitorAndRetriesAnOutage(int status, string header, string body, string outcome, string? value, string? message)
    {
        var result = await DagFiles.CallAsync("diabetes_monitoring", "monitoring_answered", status, body, header.Length == 0 ? [] : [header]);

        Assert.Equal(outcome, (string?)result["outcome"]);
        Assert.Equal(value, result["value"]?.ToJsonString());
        if (message is not null)
        {
            Assert.StartsWith(message, (string?)result["message"]);
        }
    }

    public static TheoryData<string, string, string?> MonitoringAnswers => new()
    {
        // An input in alert (the API says alert only over Monitoring:MinimumRows predictions): named with its PSI.
        { Drift("alert", "ok", ("age", "AgeYears", 0.412, "alert"), ("race", "Race", 0.02, "ok")), Performance(null), "inputs in alert over 1,000 predictions of version 3: age (AgeYears) PSI 0.412" },
        // Several: by PSI, highest first; warn is not a reason.
        { Drift("alert", "ok", ("race", "Race", 0.31, "alert"), ("num_medications", "NumMedications", 0.52, "alert"), ("age", "AgeYears", 0.2, "warn")), Performance(false),
            "inputs in alert over 1,000 predictions of version 3: num_medications (NumMedications) PSI 0.520, race (Race) PSI 0.310" },
        // Live ROC-AUC fell by more than Monitoring:AucDrop, as the API judged it.
        { Drift("ok", "ok", ("age", "AgeYears", 0.01, "ok")), Performance(true),
            "live ROC-AUC 0.612 of version 3 on 412 outcomes is below its test ROC-AUC 0.681 by more than 0.05" },
        { Drift("alert", "ok", ("age", "AgeYears", 0.412, "alert")), Performance(true),
            "inputs in alert over 1,000 predictions of version 3: age (AgeYears) PSI 0.412; live ROC-AUC 0.612 of version 3 on 412 outcomes is below its test ROC-AUC 0.681 by more than 0.05" },
        // Nothing wrong, too few predictions or outcomes, no reference profile, or the score alone: no training.
        { Drift("warn", "ok", ("age", "AgeYears", 0.2, "warn")), Performance(false), null },
        { Drift("insufficient data", "ok", ("age", "AgeYears", 0.9, "insufficient data")), Performance(null), null },
        { """{"version":"3","rows":1000,"status":"no reference","reason":"reference_profile.json is not in the model folder","inputs":[],"score":null}""", Performance(null), null },
        { Drift("alert", "alert", ("age", "AgeYears", 0.05, "ok")), Performance(false), null },
    };

    [Theory]
    [MemberData(nameof(MonitoringAnswers))]
    public async Task TheMonitoringDagTrainsForAnInputInAlertOrAFallOfLiveRocAucAndNothingElse(string drift, string performance, string? reason)
    {
        var result = await DagFiles.RunCallableAsync("diabetes_monitoring", "decide_training",
            new JsonObject { ["check_drift"] = JsonNode.Parse(drift), ["check_performance"] = JsonNode.Parse(performance) });

        Assert.Equal("returned", (string?)result["outcome"]);
        Assert.Equal(reason, (string?)result["value"]);
        Assert.StartsWith(reason is null ? "Nothing to train for: no input in alert" : $"Training needed: {reason}", (string?)result["log"]);
    }

    [Fact]
    public async Task TheReasonStaysWithinWhatTheTrainerTakesWhenEveryInputIsInAlert()
    {
        // Every input in alert, with names longer than any of the dataset's.
        var inputs = Enumerable.Range(1, 50).Select(i => ($"metformin-rosiglitazone-{i:D2}", $"MetforminRosiglitazoneInput{i:D2}", 10.0 + i, "alert")).ToArray();

        var result = await DagFiles.RunCallableAsync("diabetes_monitoring", "decide_training",
            new JsonObject { ["check_drift"] = JsonNode.Parse(Drift("alert", "ok", inputs)), ["check_performance"] = JsonNode.Parse(Performance(true)) });

        // Diabetes.Trainer's TrainingRequest.MaxReasonLength.
        var reason = (string)result["value"]!;
        Assert.InRange(reason.Length, 1, 1_000);
        Assert.Contains("metformin-rosiglitazone-50 (MetforminRosiglitazoneInput50) PSI 60.000", reason);
        Assert.Contains(" and 40 more; live ROC-AUC", reason);
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
    // A job over unchanged CLEAN DATA trained nothing: skipped, and promote with it.
    [InlineData(200, """{"id":"a1","status":"Succeeded","skipped":true,"skipReason":"CLEAN DATA is unchanged since version 3"}""", "skipped", null,
        "Training job a1 trained nothing, so nothing is promoted: CLEAN DATA is unchanged since version 3")]
    [InlineData(200, """{"id":"a1","status":"Succeeded","skipped":false,"registeredVersion":"4"}""", "returned", "true", null)]
    // Fails the task without retries, with the job's error in the log.
    [InlineData(200, """{"id":"a1","status":"Failed","error":"CLEAN DATA has no train rows"}""", "failed", null, "Training job a1 failed: CLEAN DATA has no train rows")]
    // A job the trainer no longer knows (it restarted) fails the task at once instead of poking until the timeout.
    [InlineData(404, """{"title":"No such training job"}""", "failed", null, "The trainer does not know this training job")]
    public async Task TheTrainingDagWaitsForTheJobSkipsPromotionOfAJobThatTrainedNothingAndFailsAtOnceOnAFailedOrUnknownJob(int status, string answer, string outcome, string? value, string? message)
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

    /// <summary>A drift answer of version 3 over 1,000 predictions, shaped as <c>GET api/monitoring/drift</c> answers it.</summary>
    private static string Drift(string status, string scoreStatus, params (string Name, string Input, double Psi, string Status)[] inputs) =>
        new JsonObject
        {
            ["from"] = "2026-03-01T10:00:00+00:00",
            ["to"] = "2026-03-02T10:00:00+00:00",
            ["version"] = "3",
            ["rows"] = 1000,
            ["status"] = status,
            ["reason"] = null,
            ["inputs"] = new JsonArray([.. inputs.Select(i => (JsonNode)new JsonObject
            {
                ["name"] = i.Name,
                ["input"] = i.Input,
                ["psi"] = i.Psi,
                ["status"] = i.Status,
                ["bins"] = new JsonArray(new JsonObject { ["label"] = "[0, 1)", ["expected"] = 0.5, ["actual"] = 0.5 }),
            })]),
            ["score"] = new JsonObject { ["psi"] = scoreStatus == "alert" ? 0.3 : 0.01, ["status"] = scoreStatus },
            ["positiveRate"] = new JsonObject { ["actual"] = 0.3, ["expected"] = 0.28 },
        }.ToJsonString();

    /// <summary>A performance answer of version 3 with 412 outcomes, shaped as <c>GET api/monitoring/performance</c> answers it.</summary>
    private static string Performance(bool? rocAucFell) =>
        new JsonObject
        {
            ["version"] = "3",
            ["outcomes"] = 412,
            ["status"] = "ok",
            ["minimumOutcomes"] = 300,
            ["rocAuc"] = new JsonObject { ["value"] = 0.6121, ["low"] = 0.57, ["high"] = 0.65 },
            ["validation"] = new JsonObject { ["roc_auc"] = 0.69 },
            ["test"] = new JsonObject { ["roc_auc"] = 0.6812 },
            ["aucDrop"] = 0.05,
            ["rocAucFell"] = rocAucFell,
            ["notes"] = new JsonArray(),
        }.ToJsonString();

    /// <summary>The tasks in dependency order: id, operator, what it calls ("connection METHOD endpoint", the DAG it triggers, or its callable), upstream.</summary>
    private static void AssertTasks(JsonObject dag, params (string TaskId, string Operator, string Calls, string[] Upstream)[] expected)
    {
        var actual = dag["tasks"]!.AsArray().Select(t => (
            TaskId: (string)t!["task_id"]!,
            Operator: (string)t["operator"]!,
            Calls: (string?)(t["trigger_dag_id"] ?? t["python_callable"]) ?? $"{t["http_conn_id"]} {t["method"]} {t["endpoint"]}",
            Upstream: t["upstream"]!.AsArray().Select(u => (string)u!).ToArray()));

        Assert.Equal(expected.Select(Describe), actual.Select(Describe));

        static string Describe((string TaskId, string Operator, string Calls, string[] Upstream) task) =>
            $"{task.TaskId}: {task.Operator} {task.Calls} after [{string.Join(", ", task.Upstream)}]";
    }

    [GeneratedRegex(@"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")]
    private static partial Regex CronOrPreset();
}
