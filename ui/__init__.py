"""Static lineage explorer served at /ui (the browser issue)."""
