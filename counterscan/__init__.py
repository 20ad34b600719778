"""counterscan: score listing photos for the chance that they show counterfeit goods."""

__version__ = "0.1.0"
