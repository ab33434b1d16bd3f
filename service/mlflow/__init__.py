"""MLflow's REST API (`/api/2.0/mlflow/...`): the door through which code written for MLflow
arrives unchanged. It parses MLflow's messages, calls the same domain functions as mlledger's own
API, and answers in MLflow's shapes and error codes; it writes no SQL of its own, so an MLflow run
is an ordinary mlledger run, searched, shown and gated like any other."""
