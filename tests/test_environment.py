"""The service environment holds what later issues build on (DESIGN.md): Feast 0.67 with its
Redis and Postgres extras, and tensorflow-metadata on protobuf 6 — importable side by side."""

from __future__ import annotations

from importlib.metadata import version


def test_feast_and_tensorflow_metadata_share_the_service_environment():
    import feast
    import google.protobuf
    import redis
    from feast.infra.online_stores.redis import RedisOnlineStore
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

    assert feast.__version__ == "0.67.0"
    assert version("tensorflow-metadata") == "1.21.0"
    assert google.protobuf.__version__.startswith("6.")
    assert int(version("pyarrow").split(".")[0]) >= 16
    assert RedisOnlineStore and redis.Redis
    # The protos the validation issue stores and renders, without TensorFlow.
    schema = schema_pb2.Schema(feature=[schema_pb2.Feature(name="age", type=schema_pb2.INT)])
    assert schema_pb2.Schema.FromString(schema.SerializeToString()) == schema
    assert statistics_pb2.DatasetFeatureStatisticsList and anomalies_pb2.Anomalies


def test_the_server_starts_without_tensorflow():
    import importlib.util

    assert importlib.util.find_spec("tensorflow") is None
