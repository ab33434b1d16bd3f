"""The service environment holds what later issues build on (DESIGN.md): Feast 0.67 with its
Redis and Postgres extras, and tensorflow-metadata on protobuf 6 — importable side by side."""

from __future__ import annotations

from importlib.metadata import version


def test_feast_and_tensorflow_metadata_share_the_service_environment():
    import feast
    import google.protobuf
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

    assert feast.__version__ == "0.67.0"
    assert version("tensorflow-metadata") == "1.21.0"
    assert google.protobuf.__version__.startswith("6.")
    assert int(version("pyarrow").split(".")[0]) >= 16
    # The protos the validation issue stores and renders, without TensorFlow.
    schema = schema_pb2.Schema(feature=[schema_pb2.Feature(name="age", type=schema_pb2.INT)])
    assert schema_pb2.Schema.FromString(schema.SerializeToString()) == schema
    stats = statistics_pb2.DatasetFeatureStatisticsList(datasets=[{"num_examples": 3}])
    assert stats.datasets[0].num_examples == 3
    assert anomalies_pb2.Anomalies.FromString(anomalies_pb2.Anomalies().SerializeToString())


def test_the_server_starts_without_tensorflow(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The service, its feature store wiring and its proto reading load no TensorFlow (it lives
    in the validator environment only): an app is built, Feast loaded, a schema read."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from mlledger.service.app import create_app\n"
        "from mlledger.service.settings import Settings\n"
        "from mlledger.validation import protos\n"
        f"app = create_app(Settings(home={str(tmp_path)!r}))\n"
        "app.state.features.get(); app.state.graphql.get()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'tensorflow_data_validation', 'apache_beam')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
