"""GraphQL at /graphql for graph-shaped reads, over the same domain and store as REST."""
