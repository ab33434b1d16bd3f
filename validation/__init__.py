"""Data and model gates (the validation issue). The TFDV side runs in the validator environment."""
