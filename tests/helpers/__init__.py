"""Helpers shared by the test folders (importable as `tests.helpers.*`: pyproject's pytest
`pythonpath` puts the repository root on sys.path).

photos.py        drawn photos: smooth blobs, labelled genuine/counterfeit, detailed listing photos
net.py           a free loopback port, waiting for a condition
live_server.py   a real `counterscan serve` process
pg_cluster.py    a throwaway PostgreSQL cluster of a test's own
hostile_images.py  the hostile-image cases of the reliability suite
"""
