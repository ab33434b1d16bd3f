"""What the tests share, in one importable package (`tests` is on pytest's pythonpath):
servers.py (real service processes and their environment), cli.py (the `mlledger` command in
this process, or in its own when commands race), helpers.py (in-process clients, statement
counts, graph builders), feature_repo.py (a Feast repo of drivers), customers.py (a table for
data gates), pushing.py (model gate steps)."""
