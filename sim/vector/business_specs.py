"""Business parameters as arrays indexed by business, for lookups per event (``price[j]``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..world import BusinessSpec


@dataclass(frozen=True)
class BusinessArrays:
    failure_rate: np.ndarray
    severe_share: np.ndarray
    price: np.ndarray
    coupon_discount: np.ndarray
    personified: np.ndarray  # bool
    care: np.ndarray
    difficulty: np.ndarray
    forget: np.ndarray
    margin: np.ndarray
    mix: np.ndarray  # (nb, 3): capacity * (caring, promotional, coupons) shares, as the Mesa engine forms it

    @classmethod
    def from_specs(cls, specs: list[BusinessSpec]) -> BusinessArrays:
        def col(name, dtype=float):
            return np.array([getattr(s, name) for s in specs], dtype)
        return cls(col("failure_rate"), col("severe_share"), col("price"), col("coupon_discount"),
                   col("personified", bool), col("care"), col("difficulty"), col("forget"), col("margin"),
                   np.array([s.capacity * np.array([s.caring, s.promotional, s.coupons]) for s in specs]).reshape(-1, 3))
