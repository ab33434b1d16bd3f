"""Use cases. REST routes and GraphQL resolvers parse, call one of these, and serialise.

Each write use case is one unit of work: it opens the transaction, calls repositories (which only
flush), records the audit entries, and commits once.
"""
