"""The country of a location pin, worked out offline.

A person on WhatsApp often shares a pin instead of typing where they are. The pin's
latitude and longitude are matched to the nearest place in GeoNames' list of towns of
1,000 people or more, which the `reverse_geocode` package ships (no network at run time).
The nearest town's country is the pin's country, unless that town is too far away to
say (the open sea, the middle of a desert): then the country is not known and the
person is asked to name the place instead.

The list takes about a second and some 120 MB to load, so it is loaded on the first pin,
not when the server starts.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Optional

# Farther than this from any town of 1,000 people, a pin's country is a guess. Border
# towns are close to each other, so within it the nearest town is almost always right.
MAX_DISTANCE_KM = 100.0
_EARTH_RADIUS_KM = 6371.0
_load_lock = threading.Lock()


@dataclass(frozen=True)
class PinPlace:
    country: str  # ISO 3166-1 alpha-2, upper case
    town: str  # the nearest town in GeoNames, for the logs of a developer; not shown to people
    distance_km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _nearest(latitude: float, longitude: float) -> dict:
    import reverse_geocode

    with _load_lock:  # the first call builds the index; two at once would build it twice
        return reverse_geocode.get((latitude, longitude))


def place_of_pin(latitude: float, longitude: float) -> Optional[PinPlace]:
    """The country a pin is in, or None when it cannot be told (far from any town)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    found = _nearest(latitude, longitude)
    code = str(found.get("country_code") or "").upper()
    if len(code) != 2 or not code.isalpha():
        return None
    away = distance_km(latitude, longitude, float(found["latitude"]), float(found["longitude"]))
    if away > MAX_DISTANCE_KM:
        return None
    return PinPlace(code, str(found.get("city") or ""), round(away, 1))
