"""Rekam: runs a city's e-KTP recording campaign."""

__version__ = "0.1.0"
