"""MLMD's gRPC door: TFX and Kubeflow Pipelines write through it unchanged."""
