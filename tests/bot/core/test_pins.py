"""The country of a WhatsApp location pin, worked out offline (bot/core/pins.py)."""

import pytest

from bot.core.pins import MAX_DISTANCE_KM, distance_km, place_of_pin


@pytest.mark.parametrize(
    "latitude, longitude, country",
    [
        (24.8607, 67.0011, "PK"),  # Karachi
        (31.5204, 74.3587, "PK"),  # Lahore
        (25.2048, 55.2708, "AE"),  # Dubai
        (24.4539, 54.3773, "AE"),  # Abu Dhabi
        (24.7136, 46.6753, "SA"),  # Riyadh
        (21.4858, 39.1925, "SA"),  # Jeddah
        (29.3759, 47.9774, "KW"),  # Kuwait City
        (33.3152, 44.3661, "IQ"),  # Baghdad
        (36.1901, 44.0091, "IQ"),  # Erbil
        (51.5074, -0.1278, "GB"),  # London
        (55.9533, -3.1883, "GB"),  # Edinburgh
        (-23.5505, -46.6333, "BR"),  # São Paulo
        (19.4326, -99.1332, "MX"),  # Mexico City
        (48.8566, 2.3522, "FR"),  # a country the clinic does not list
        (26.2285, 50.5860, "BH"),  # Manama, a short way from Saudi Arabia
    ],
)
def test_a_pin_is_placed_in_its_country(latitude, longitude, country):
    place = place_of_pin(latitude, longitude)
    assert place is not None and place.country == country
    assert place.distance_km <= MAX_DISTANCE_KM


@pytest.mark.parametrize(
    "latitude, longitude",
    [
        (0.0, -30.0),  # the Atlantic
        (-60.0, 100.0),  # the Southern Ocean
        (20.0, 50.5),  # the Empty Quarter: the nearest town is hundreds of km away, maybe over a border
    ],
)
def test_a_pin_far_from_any_town_has_no_country(latitude, longitude):
    assert place_of_pin(latitude, longitude) is None


@pytest.mark.parametrize("latitude, longitude", [(91, 0), (0, 181), (-90.5, 0)])
def test_impossible_coordinates_have_no_country(latitude, longitude):
    assert place_of_pin(latitude, longitude) is None


def test_distance_is_along_the_earth():
    assert distance_km(24.8607, 67.0011, 24.8607, 67.0011) == 0
    assert 1030 <= distance_km(24.8607, 67.0011, 31.5204, 74.3587) <= 1060  # Karachi-Lahore, about 1,030 km
