"""What the Diabetes DAGs share: the imports that moved between Airflow 2.10 and 3.x, retries and schedules.

The DAGs hold no logic of their own: every step is one call of the services' HTTP contract (ARCHITECTURE.md).
"""
import os
from datetime import datetime, timedelta, timezone

try:  # Airflow 3.x
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.10
    from airflow import DAG

try:  # Airflow 3.x: the standard provider
    from airflow.providers.standard.operators.python import ShortCircuitOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
except ImportError:  # Airflow 2.10
    from airflow.operators.python import ShortCircuitOperator
    from airflow.operators.trigger_dagrun import TriggerDagRunOperator

from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor

__all__ = [
    "DAG", "HttpOperator", "HttpSensor", "ShortCircuitOperator", "TriggerDagRunOperator", "AirflowFailException",
    "AirflowSkipException",
    "DEFAULT_ARGS", "START_DATE", "schedule_from_env",
]

# A fixed start in the past with catchup off: no backlog of past intervals is run, at most the latest one.
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

# A service that is restarting or briefly down gets retried with growing pauses (30 s, 1 min, 2 min, ...).
DEFAULT_ARGS = {
    "owner": "diabetes",
    "retries": 4,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=15),
}


def schedule_from_env(variable, default):
    """A cron expression or preset from the environment (e.g. DIABETES_DATA_SCHEDULE="*/20 * * * *"), else the default."""
    return os.environ.get(variable) or default
