"""Features: Feast as the engine (definitions, registry, materialization, offline joins);
mlledger adds TTL-correct online reads straight from Redis, lineage and one API."""
