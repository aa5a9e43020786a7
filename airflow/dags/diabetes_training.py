"""diabetes_training: train the candidates on all CLEAN train rows, wait for the job, promote the better model.

Runs after each diabetes_data run that cleaned new rows, when diabetes_monitoring finds drift or a fall of live
ROC-AUC (with the reason in its conf), and weekly besides. A job over the CLEAN DATA the newest version was trained on
trains nothing; any other registers a new version, which holds Production only if it scores better on the validation
set. The trainer holds the logic: this DAG starts a job, waits for it and asks for a promotion (champion against
challenger on the validation set). A job that trained nothing skips wait_for_training and promote; the run succeeds.
"""
from datetime import timedelta

from diabetes_common import (
    DAG, DEFAULT_ARGS, START_DATE, AirflowFailException, AirflowSkipException, HttpOperator, HttpSensor, schedule_from_env,
)


def training_finished(response):
    """True once the job succeeded; a failed job, or one the trainer does not know, fails the task without retries.
    A job that trained nothing (the same CLEAN DATA as the newest version) skips the task, and with it promote: there
    is no new version to weigh, and persistent drift then costs an hourly look at the data, not a promotion."""
    if response.status_code == 404:
        raise AirflowFailException(f"The trainer does not know this training job (restarted since it began?): {response.text}")
    if not response.ok:
        return False  # the trainer answered 5xx: ask again at the next poke
    job = response.json()
    if job["status"] == "Failed":
        raise AirflowFailException(f"Training job {job['id']} failed: {job.get('error')}")
    if job["status"] == "Succeeded" and job.get("skipped"):
        raise AirflowSkipException(f"Training job {job['id']} trained nothing, so nothing is promoted: {job.get('skipReason')}")
    return job["status"] == "Succeeded"


with DAG(
    dag_id="diabetes_training",
    description="Train the candidates, register the best, give Production to the better of it and the current model",
    schedule=schedule_from_env("DIABETES_TRAINING_SCHEDULE", "@weekly"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    tags=["diabetes", "training"],
    doc_md=__doc__,
) as dag:
    # 202 with the job; a job already running is answered instead of a second one. The run's conf is the request:
    # diabetes_monitoring's {"reason": ...}, kept on the job's MLflow run, or {"force": true} given by hand to train
    # over unchanged CLEAN DATA; a scheduled run sends {}.
    start_training = HttpOperator(
        task_id="start_training",
        http_conn_id="trainer_api",
        endpoint="api/trainings",
        method="POST",
        data="{{ (dag_run.conf or {}) | tojson }}",
        headers={"Content-Type": "application/json"},
        response_filter=lambda response: response.json()["id"],
        log_response=True,
        execution_timeout=timedelta(minutes=2),
    )
    # Reschedule mode frees the worker slot between pokes. The answer reaches training_finished whatever its status.
    wait_for_training = HttpSensor(
        task_id="wait_for_training",
        http_conn_id="trainer_api",
        endpoint="api/trainings/{{ ti.xcom_pull(task_ids='start_training') }}",
        method="GET",
        extra_options={"check_response": False},
        response_check=training_finished,
        mode="reschedule",
        poke_interval=30,
        timeout=timedelta(hours=2).total_seconds(),
    )
    promote = HttpOperator(
        task_id="promote",
        http_conn_id="trainer_api",
        endpoint="api/promotions",
        method="POST",
        log_response=True,
        execution_timeout=timedelta(minutes=20),
    )

    start_training >> wait_for_training >> promote
