"""The artifact store: uploaded files' bytes, content-addressed (objects.py), and the paths
that name them in a project (paths.py)."""
