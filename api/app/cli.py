"""Operator commands: `python -m app.cli seed | migrate | ...` (run from api/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.config import get_settings
from app.core.db import get_sessionmaker


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parents[1] / "alembic.ini"))
    command.upgrade(config, "head")


def seed() -> None:
    from app.services.seed import seed_all

    with get_sessionmaker()() as session:
        counts = seed_all(session=session, reference_dir=get_settings().reference_dir)
    print("seeded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply Alembic migrations")
    sub.add_parser("seed", help="load reference data (idempotent)")
    sub.add_parser("setup", help="migrate then seed")
    args = parser.parse_args(argv)
    if args.command in ("migrate", "setup"):
        migrate()
    if args.command in ("seed", "setup"):
        seed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
