#!/bin/sh
# Creates the artifact bucket if it is missing (nobody else does), then runs the tracking server, starting it again
# whenever it stops (the container or pod restart policy covers a crash of this script itself).
# Configuration (set by the AppHost or the Kubernetes manifests):
#   MLFLOW_BACKEND_STORE_URI      postgresql+psycopg2://user:password@host:port/mlflowdb
#   MLFLOW_ARTIFACTS_DESTINATION  s3://mlflow
#   MLFLOW_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   the MinIO server
#   MLFLOW_SERVER_ALLOWED_HOSTS   Host headers accepted (MLflow 3.5+), e.g. mlflow,mlflow:*,localhost:*
#   MLFLOW_WORKERS                server processes (MLflow's own variable for --workers); default 2 here, where
#                                 MLflow's default of 4 is too many for a small VM
#
# The server is uvicorn, MLflow 3's default, chosen here on purpose (not gunicorn through --gunicorn-opts, which in 3.9
# serves Flask directly): it is what the platform is tested against. Its WSGI bridge reads a request body sent chunked as empty, so every client must send
# Content-Length (the platform's MLflow client always does). Keep-alive is 75 s, longer than the 60 s a .NET client
# keeps an idle connection, so a client never reuses a connection the server has just closed.
set -u
workers="${MLFLOW_WORKERS:-2}"

python - <<'PY'
import os, sys, time
import boto3, botocore

bucket = os.environ["MLFLOW_ARTIFACTS_DESTINATION"].removeprefix("s3://").split("/")[0]
s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
for attempt in range(60):
    try:
        s3.head_bucket(Bucket=bucket)
        print(f"artifact bucket {bucket} exists", flush=True)
        break
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket"):
            s3.create_bucket(Bucket=bucket)
            print(f"created artifact bucket {bucket}", flush=True)
            break
        if not code.startswith("5"):
            raise
        print(f"object store answered {code} (attempt {attempt + 1}); waiting", flush=True)
        time.sleep(2)
    except botocore.exceptions.EndpointConnectionError:
        print(f"object store not reachable yet (attempt {attempt + 1}); waiting", flush=True)
        time.sleep(2)
else:
    sys.exit("the object store never answered")
PY
[ $? -eq 0 ] || exit 1

# This shell is PID 1: it forwards a stop request to the server and ends, rather than restarting it.
stopping=0
trap 'stopping=1; kill -TERM "$server" 2>/dev/null' TERM INT

while [ "$stopping" -eq 0 ]; do
    echo "starting mlflow server: uvicorn, $workers workers" >&2
    mlflow server \
        --host 0.0.0.0 \
        --port 5000 \
        --workers "$workers" \
        --uvicorn-opts "--timeout-keep-alive 75" \
        --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
        --artifacts-destination "$MLFLOW_ARTIFACTS_DESTINATION" \
        --serve-artifacts \
        --allowed-hosts "$MLFLOW_SERVER_ALLOWED_HOSTS" &
    server=$!
    wait "$server"
    status=$?
    [ "$stopping" -eq 1 ] && break
    echo "mlflow server stopped (exit code $status); starting it again in 5 s" >&2
    sleep 5
done
wait "$server" 2>/dev/null
exit 0
