"""Similar cases: match new listing photos against photos inspectors already judged.

fingerprint.py  per-photo grey thumbnail + colour histogram (stored in items.fingerprint)
align.py        crop-tolerant alignment and the high-pass correlation of two fingerprints
index.py        embedding nearest neighbours, exact (numpy) or approximate (faiss IVF)
references.py   a set of judged photos (counterfeit references, or the known genuine)
matching.py     exact / near_duplicate / similar matching, its thresholds and how they were chosen
service.py      the running service's sets, kept in step with verdicts; priority raising
sync.py         every worker and server follows verdicts given elsewhere (similar_sync_seconds)
evaluate.py     precision and recall of matching on transformed copies
"""
