"""Listings and sellers: the signals found in a listing beyond its photos (signals.py, pure),
recording listings as they are scored (service.py), seller risk (risk.py), early-warning
rules (alerts.py) and their webhook delivery through an outbox (webhook.py)."""
