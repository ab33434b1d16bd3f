"""OpenLineage's HTTP transport (`POST /api/v1/lineage`) and the queries over what it sent."""
