"""What an inspection case produces: the signed evidence package and the office's report.
Used by the HTTP routes (api/) and the command line (offline/) alike."""
