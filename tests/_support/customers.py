"""A customers table for the data gate tests: ages, countries, clicks, reproducible by seed,
with a shift of the ages to make drift."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def frame(
    n: int = 400,
    *,
    seed: int = 0,
    shift: float = 0.0,
    countries: Sequence[str] = ("DE", "FR", "IT"),
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 5, n).round(1),
            "country": rng.choice(list(countries), n),
            "clicks": rng.integers(0, 100, n),
        }
    )
