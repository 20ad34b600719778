"""HTTP routes of the service, one module per area (included by `counterscan.serve.app`):

score    POST /v1/score, POST /v1/score/batch
ops      /healthz, /readyz, /metrics, GET /v1/model, POST /v1/admin/reload
items    the inspection queue, items, their images and verdicts
similar  GET /v1/items/{id}/similar: the reviewed cases an item matches
cases    the case register and its evidence packages (/v1/cases)
reports  the office's periodic report (/v1/reports)
sellers  GET /v1/sellers, GET /v1/sellers/{source}/{seller_id}: sellers ranked by risk
trends   GET /v1/trends: per-day counts overall, per source, per category
alerts   GET /v1/alerts, POST /v1/alerts/{id}/ack: early warnings
console  the inspector console page, its static files and /static/limits.json
"""
