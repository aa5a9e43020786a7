"""diabetes_monitoring: read the served model's drift and live quality, and retrain when either says so.

Each run asks the inference API for the drift of the last day's predictions and for the live ROC-AUC of the served
version. An input in alert (which needs Monitoring:MinimumRows predictions in the window) or live ROC-AUC fallen below
the version's test ROC-AUC by more than Monitoring:AucDrop (which needs Monitoring:MinimumOutcomes outcomes) triggers
diabetes_training with the reason in its conf; otherwise trigger_training is skipped and the run succeeds. The
thresholds are the inference API's: this DAG reads its verdicts (status, rocAucFell), never the figures against
thresholds of its own. No version in Production, or the prediction log off (the API's 503 states noProduction and
logOff), skips the run: there is nothing to monitor. Any other 503 (MLflow unreachable, the model being loaded or
refused, the log's database down) fails the try, and Airflow retries it.
"""
from datetime import timedelta

from diabetes_common import (
    DAG, DEFAULT_ARGS, START_DATE, AirflowSkipException, HttpOperator, ShortCircuitOperator, TriggerDagRunOperator,
    schedule_from_env,
)


def monitoring_answered(response):
    """True on an answer to read. A 503 whose state is noProduction (no version holds Production) or logOff (the
    prediction log off) skips the run. Any other 503, with or without Retry-After, or any other error fails the try,
    and Airflow retries it."""
    # The states that last until someone acts (a version promoted, the log configured). Every other 503 passes by
    # itself (MLflow unreachable, the Production version being loaded or refused) or is an outage (the log's
    # PostgreSQL down).
    nothing_to_monitor = {"noProduction", "logOff"}
    if response.status_code == 503:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if isinstance(problem, dict) and problem.get("state") in nothing_to_monitor:
            raise AirflowSkipException(f"Nothing to monitor: {problem.get('title')}. {problem.get('detail')}")
    return response.ok


def training_reason(drift, performance):
    """Why the served model should be trained again, or None: the inputs in alert, by PSI, and a fall of live ROC-AUC."""
    most_named = 10  # keeps the reason within what the trainer takes (1,000 characters)
    reasons = []
    alerts = sorted((i for i in drift["inputs"] if i["status"] == "alert"), key=lambda i: -i["psi"])
    if alerts:
        named = ", ".join(f"{i['name']} ({i['input']}) PSI {i['psi']:.3f}" for i in alerts[:most_named])
        more = f" and {len(alerts) - most_named} more" if len(alerts) > most_named else ""
        reasons.append(f"inputs in alert over {drift['rows']:,} predictions of version {drift['version']}: {named}{more}")
    if performance.get("rocAucFell") is True:
        live, test = performance["rocAuc"]["value"], performance["test"]["roc_auc"]
        reasons.append(f"live ROC-AUC {live:.3f} of version {performance['version']} on {performance['outcomes']:,} outcomes "
                       f"is below its test ROC-AUC {test:.3f} by more than {performance['aucDrop']}")
    return "; ".join(reasons) or None


def answer_json(response):
    """The answer, as the XCom decide_training reads."""
    return response.json()


# The two checks are the same call of two endpoints. Every answer reaches monitoring_answered, so that a 503 that is a
# state can skip the run.
READ_MONITORING = {
    "http_conn_id": "inference_api",
    "method": "GET",
    "extra_options": {"check_response": False},
    "response_check": monitoring_answered,
    "response_filter": answer_json,
    "log_response": True,
    "execution_timeout": timedelta(minutes=2),
}


def decide_training(ti):
    """The reason to train lets trigger_training run and goes into its conf; None skips it (ShortCircuitOperator)."""
    drift, performance = ti.xcom_pull(task_ids="check_drift"), ti.xcom_pull(task_ids="check_performance")
    reason = training_reason(drift, performance)
    if reason:
        print(f"Training needed: {reason}")
    else:
        fell = "has not fallen" if performance.get("rocAucFell") is False else "cannot be judged (check_performance's notes say why)"
        print(f"Nothing to train for: no input in alert (drift {drift['status']} over {drift['rows']:,} predictions), "
              f"live ROC-AUC on {performance['outcomes']:,} outcomes {fell}.")
    return reason


with DAG(
    dag_id="diabetes_monitoring",
    description="Read the served model's drift and live ROC-AUC; trigger diabetes_training when an input is in alert or ROC-AUC fell",
    schedule=schedule_from_env("DIABETES_MONITORING_SCHEDULE", "@hourly"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    default_args=DEFAULT_ARGS,
    tags=["diabetes", "monitoring"],
    doc_md=__doc__,
) as dag:
    check_drift = HttpOperator(task_id="check_drift", endpoint="api/monitoring/drift", **READ_MONITORING)
    check_performance = HttpOperator(task_id="check_performance", endpoint="api/monitoring/performance", **READ_MONITORING)
    decide = ShortCircuitOperator(
        task_id="decide_training",
        python_callable=decide_training,
        execution_timeout=timedelta(minutes=1),
    )
    # The training job keeps the reason on its MLflow run. Over unchanged CLEAN DATA it trains nothing (same data,
    # same model), however often drift persists.
    trigger_training = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="diabetes_training",
        conf={"reason": "{{ ti.xcom_pull(task_ids='decide_training') }}"},
        execution_timeout=timedelta(minutes=2),
    )

    [check_drift, check_performance] >> decide >> trigger_training
