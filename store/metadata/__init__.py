"""Repositories of the metadata database: every SQL query of mlledger lives in this package."""
