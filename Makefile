# The two commands: `make run` (set up on first use, then start everything) and `make test`.
.PHONY: run setup test train migration lint bench clean
SHELL := /bin/bash

run: setup
	@scripts/run.sh

setup:
	@scripts/setup.sh

test:
	@scripts/test.sh

train:
	@scripts/train.sh

migration:
	@scripts/regen_migration.sh

lint:
	@.venv-api/bin/ruff check api tests bench common actions bot

bench: setup
	@scripts/bench.sh

clean:
	rm -rf .venv-api .venv-bot models var .run test-artifacts
