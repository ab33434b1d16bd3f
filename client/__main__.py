"""`python -m mlledger.client` runs the CLI."""

from ._cli import main

main()
