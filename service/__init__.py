"""The mlledger server: FastAPI REST and strawberry GraphQL over one domain layer."""
