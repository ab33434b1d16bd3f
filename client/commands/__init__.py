"""The client's CLI commands (base install, HTTP only), one module per group; each is an
entry point of `mlledger.commands` (pyproject.toml), imported only when it runs."""
