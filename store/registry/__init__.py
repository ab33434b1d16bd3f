"""The model registry: registered models, versions and aliases moved by compare-and-set."""
