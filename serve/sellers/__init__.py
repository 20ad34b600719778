"""Listings and sellers: the signals found in a listing beyond its photos (signals.py, pure),
recording listings as they are scored (service.py), seller risk (risk.py)."""
