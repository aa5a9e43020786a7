"""diabetes_data: prepare the dataset, load the next train batch into RAW DATA, clean it into CLEAN DATA.

One batch of 15,000 train rows per run. A run that cleaned new rows triggers diabetes_training; once every batch is
loaded and cleaned, a run skips the rest and changes nothing. Cleaning takes every RAW row not yet in CLEAN DATA, so
a run whose clean failed is made good by the next one, the last batch's included.
"""
from datetime import timedelta

from diabetes_common import (
    DAG, DEFAULT_ARGS, START_DATE, AirflowSkipException, HttpOperator, TriggerDagRunOperator, schedule_from_env,
)


def skip_when_nothing_was_cleaned(response):
    """No new row reached CLEAN DATA (every batch was loaded and cleaned before): nothing to train on."""
    cleaned = response.json()
    if cleaned["cleanedRows"] == 0:
        raise AirflowSkipException(f"No new rows to clean ({cleaned['cleanRowsBySplit']} in CLEAN DATA): nothing new to train on.")
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
    # Idempotent, as every step: the first run fetches, splits and loads validation and test; later runs find it done.
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
        log_response=True,
    )
    clean = HttpOperator(
        task_id="clean",
        http_conn_id="ingest_api",
        endpoint="api/clean",
        method="POST",
        response_check=skip_when_nothing_was_cleaned,
        log_response=True,
    )
    trigger_training = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="diabetes_training",
        execution_timeout=timedelta(minutes=2),
    )

    prepare >> load_next_batch >> clean >> trigger_training
