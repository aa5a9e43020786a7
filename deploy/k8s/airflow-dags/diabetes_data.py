"""diabetes_data: prepare the dataset, load the next train batch into RAW DATA, clean it into CLEAN DATA.

One batch of 15,000 train rows per run. Once every batch is loaded, a run skips the rest and changes nothing.
A run that loaded a batch triggers diabetes_training.
"""
from datetime import timedelta

from diabetes_common import (
    DAG, DEFAULT_ARGS, START_DATE, AirflowSkipException, HttpOperator, TriggerDagRunOperator, schedule_from_env,
)


def skip_when_every_batch_is_loaded(response):
    """The ingest service answers batchNumber null when no train batch was left to load."""
    batch = response.json()
    if batch["batchNumber"] is None:
        raise AirflowSkipException(f"Every train batch is already loaded ({batch['loadedTrainRows']} rows): nothing to clean or train.")
    return True


with DAG(
    dag_id="diabetes_data",
    description="Prepare the dataset, load the next train batch into RAW DATA, clean it into CLEAN DATA",
    schedule=schedule_from_env("DIABETES_DATA_SCHEDULE", "@hourly"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=DEFAULT_ARGS,
    tags=["diabetes", "data"],
    doc_md=__doc__,
) as dag:
    # Idempotent: the first run fetches, splits and loads validation and test; later runs find it done.
    prepare = HttpOperator(
        task_id="prepare_dataset",
        http_conn_id="ingest_api",
        endpoint="api/dataset/prepare",
        method="POST",
        log_response=True,
        execution_timeout=timedelta(minutes=30),
    )
    load_next_batch = HttpOperator(
        task_id="load_next_batch",
        http_conn_id="ingest_api",
        endpoint="api/batches/next",
        method="POST",
        response_check=skip_when_every_batch_is_loaded,
        log_response=True,
    )
    clean = HttpOperator(
        task_id="clean",
        http_conn_id="ingest_api",
        endpoint="api/clean",
        method="POST",
        log_response=True,
    )
    trigger_training = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="diabetes_training",
        execution_timeout=timedelta(minutes=2),
    )

    prepare >> load_next_batch >> clean >> trigger_training
