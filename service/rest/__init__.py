"""REST routers under /api/v1: parse, call one domain function, serialise."""
