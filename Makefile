# The two commands that matter are in README.md; these targets are shortcuts around them.
.DEFAULT_GOAL := help
N ?= 00
LESSONS := $(sort $(wildcard starter_kit/15_pytorch_ml/[0-9][0-9]_*.py))

.PHONY: help setup lesson exercise serve lessons test lint bench

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  (make lesson N=01 runs one lesson; add ARGS='--device cpu' to pass flags)"

setup: ## create .venv with the lessons' packages and the dev tools (uv sync)
	uv sync

lesson: ## run one lesson: make lesson N=01 [ARGS='--smoke']
	@script="$(wildcard starter_kit/15_pytorch_ml/$(N)_*.py)"; \
	if [ -z "$$script" ]; then \
		echo "error: no lesson $(N); the lessons are:" $(patsubst starter_kit/15_pytorch_ml/%.py,%,$(LESSONS)) >&2; \
		exit 2; \
	fi; \
	uv run $$script $(ARGS)

exercise: ## check your answers to one lesson's exercises: make exercise N=03 [ARGS='--only 2']
	@script="$(wildcard starter_kit/15_pytorch_ml/exercises/$(N)_*.py)"; \
	if [ -z "$$script" ]; then echo "error: no exercises for lesson $(N)" >&2; exit 2; fi; \
	uv run $$script $(ARGS)

serve: ## lesson 08's HTTP service on http://127.0.0.1:8000 (Ctrl-C stops it)
	uv run starter_kit/15_pytorch_ml/08_deployment.py --serve $(ARGS)

lessons: ## run every lesson in order
	@for lesson in $(LESSONS); do uv run $$lesson $(ARGS) || exit 1; done

test: ## run the test suite (the README's test command)
	uv run pytest

lint: ## ruff check and format check
	uv run ruff check .
	uv run ruff format --check .

bench: ## time every lesson against a bare import; writes BENCHMARKS.md
	uv run python tools/bench.py
