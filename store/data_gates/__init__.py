"""Data gates: the validation queue, verdicts and the protos behind them."""
