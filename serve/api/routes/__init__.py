"""HTTP routes of the service, one module per area (included by `counterscan.serve.app`):

score    POST /v1/score, POST /v1/score/batch
ops      /healthz, /readyz, /metrics, GET /v1/model, POST /v1/admin/reload
items    the inspection queue, items, their images and verdicts
similar  GET /v1/items/{id}/similar: the reviewed cases an item matches
cases    the case register and its evidence packages (/v1/cases)
reports  the office's periodic report (/v1/reports)
console  the inspector console page, its static files and /static/limits.json
"""
