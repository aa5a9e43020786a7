#!/bin/sh
# Copies airflow/dags into deploy/k8s/airflow-dags, the folder the ConfigMap airflow-dags is generated from
# (Kustomize reads no file outside deploy/k8s). A test fails while the two differ.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$here/airflow-dags"
mkdir -p "$here/airflow-dags"
cp "$here/../../airflow/dags/"*.py "$here/../../airflow/dags/.airflowignore" "$here/airflow-dags/"
