# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
TEST_STAMP := $(VENV)/.installed-tests-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DATA_DIR ?= var
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: proxy run test test-slow lint bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstalls only when pyproject.toml changes; a second `make` reuses the venv.
# PYTHONWARNINGS: setuptools' editable install always adds an "Editable installation" notice
# (folders named like the package may shadow it: here `counterscan/` is that package's own
# folder, mapped on purpose); anything else setuptools warns about still shows.
$(STAMP): $(BIN)/python pyproject.toml
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[serve,train,test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The tests also need the extra `ray` (`counterscan score --ray` against a real local Ray
# cluster); `make run` does not, so it never installs it.
$(TEST_STAMP): $(STAMP)
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[serve,train,test,ray]'
	touch $(TEST_STAMP)

# The main job: build the default model from the bundled synthetic sample if it is missing,
# then serve it with the inspector console on http://$(HOST):$(PORT).
SAMPLE := $(DATA_DIR)/sample
MODEL_DIR := $(DATA_DIR)/default-model
MODEL := $(MODEL_DIR)/model.onnx
# easy, 1,000 photos: the default model then ranks the sample's held-out test photos at ROC-AUC
# 0.949 (150 photos; 4 min 50 s of training on 2 quiet cores with the 256 px defaults, 8 s to
# draw the sample; 2026-11-30); from 600 medium photos it was 0.30 (192 px).
SAMPLE_N ?= 1000
SAMPLE_DIFFICULTY ?= easy
TRAIN_ARGS ?= --epochs 8

$(SAMPLE)/manifest.csv: | $(STAMP)
	$(BIN)/counterscan data synth $(SAMPLE) --n $(SAMPLE_N) --seed 0 --difficulty $(SAMPLE_DIFFICULTY)

$(MODEL): | $(SAMPLE)/manifest.csv
	$(BIN)/counterscan train $(SAMPLE) --out $(MODEL_DIR) $(TRAIN_ARGS)

run: $(STAMP) $(MODEL)
	$(BIN)/counterscan serve --model $(MODEL) --db sqlite:///$(DATA_DIR)/counterscan.db \
		--data-dir $(DATA_DIR)/store --host $(HOST) --port $(PORT)

test: $(TEST_STAMP) browser proxy
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# The console's browser tests drive Debian's chromium through Playwright (no browser download).
# As root it is installed with apt; otherwise those tests skip and say why. Under `.ci/run`
# (COUNTERSCAN_TEST_STRICT=1) a chromium that is missing and cannot be installed fails the run.
browser:
	@command -v chromium >/dev/null 2>&1 && exit 0; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    >/dev/null && command -v chromium >/dev/null 2>&1 && exit 0; \
	  why="could not install chromium with apt-get (see above)"; \
	else why="chromium is not installed and we are not root (sudo apt-get install chromium)"; fi; \
	if [ "$${COUNTERSCAN_TEST_STRICT:-}" = 1 ]; then \
	  echo "make browser: $$why; CI runs every browser test, so the run stops here" >&2; exit 1; \
	fi; \
	echo "make browser: $$why: the browser tests will be skipped" >&2

# The deployment test (tests/reliability/test_rel_deploy.py) runs deploy/nginx.conf in Debian's
# nginx in front of two servers; installed like chromium above, same rules.
proxy:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx \
	    >/dev/null && [ -x /usr/sbin/nginx ] && exit 0; \
	  why="could not install nginx with apt-get (see above)"; \
	else why="nginx is not installed and we are not root (sudo apt-get install nginx)"; fi; \
	if [ "$${COUNTERSCAN_TEST_STRICT:-}" = 1 ]; then \
	  echo "make proxy: $$why; CI runs the deployment test, so the run stops here" >&2; exit 1; \
	fi; \
	echo "make proxy: $$why: the nginx deployment test will be skipped" >&2

test-slow: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

# Benchmarks (bench/*.py; tables on stdout, JSON in bench/results/; about 8 minutes on 2 cores).
# For the trained model and its int8 ROC-AUC check pass a checkpoint and a split dataset:
#   make bench BENCH_CHECKPOINT=runs/r1/best.pt BENCH_DATA=data/split
# Without them the ImageNet-initialised network is timed (same architecture and FLOPs).
BENCH_CHECKPOINT ?=
BENCH_DATA ?=
BENCH_FLAGS = $(if $(BENCH_CHECKPOINT),--checkpoint $(BENCH_CHECKPOINT))
bench: $(STAMP)
	$(BIN)/python bench/bench_model.py $(BENCH_FLAGS) $(if $(BENCH_DATA),--data $(BENCH_DATA)) --sweep
	$(BIN)/python bench/bench_preprocess.py --profile
	$(BIN)/python bench/bench_service.py $(BENCH_FLAGS) --profile

clean:
	rm -rf $(VENV) build *.egg-info
