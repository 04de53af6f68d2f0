"""Operator commands: `python -m app.cli seed | migrate | notifier | ...` (run from api/)."""

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


def create_staff(args: argparse.Namespace) -> int:
    import getpass
    import os

    from app.services.auth import create_staff as create

    # Never a default password, never one on the command line (it would show in the process list).
    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and not password:
        print(f"environment variable {args.password_env} is empty or unset", file=sys.stderr)
        return 2
    if password is None:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            print("the two passwords differ", file=sys.stderr)
            return 2
    with get_sessionmaker()() as session:
        try:
            staff = create(session=session, email=args.email, full_name=args.name, role=args.role,
                           agency_id=args.agency, password=password, language=args.language)
        except ValueError as error:
            print(f"not created: {error}", file=sys.stderr)
            return 2
    print(f"created {staff.role} {staff.email} (agency: {staff.agency_id or 'all'})")
    return 0


def import_agencies(path: Path) -> int:
    from app.services.agencies import AgencyImportError
    from app.services.agencies import import_agencies as run_import

    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    with get_sessionmaker()() as session:
        try:
            report = run_import(session=session, path=path)
        except AgencyImportError as error:
            print(f"{path}: {error}; nothing was imported", file=sys.stderr)
            return 1
    print(report.summary())
    return 0


def notifier(*, once: bool) -> int:
    import logging

    from app.notifier import Notifier

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The twilio package logs every request's headers at INFO: ours say enough.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    worker = Notifier(sessions=get_sessionmaker(), settings=get_settings())
    if once:
        print(worker.run_once().summary())
    else:
        worker.run_until_signalled()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply Alembic migrations")
    sub.add_parser("seed", help="load reference data (idempotent)")
    sub.add_parser("setup", help="migrate then seed")
    staff = sub.add_parser("create-staff", help="create a staff account (password from a prompt or an env variable)")
    staff.add_argument("--email", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--agency", help="agency id (required for the staff role)")
    staff.add_argument("--role", choices=("staff", "admin"), default="staff")
    staff.add_argument("--language", choices=("fr", "ar", "ary", "ary_latn"), default="fr")
    staff.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    agencies = sub.add_parser("import-agencies", help="replace the agency network from a CSV export (see agencies.md)")
    agencies.add_argument("file", type=Path)
    notify = sub.add_parser("notifier", help="send the WhatsApp outbox (until SIGTERM), beside or instead of the "
                            "backend's own notifier")
    notify.add_argument("--once", action="store_true", help="send one batch of due messages, then exit")
    args = parser.parse_args(argv)
    if args.command == "notifier":
        return notifier(once=args.once)
    if args.command == "import-agencies":
        return import_agencies(args.file)
    if args.command == "create-staff":
        return create_staff(args)
    if args.command in ("migrate", "setup"):
        migrate()
    if args.command in ("seed", "setup"):
        seed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
