"""Write Alembic revisions of quart-authtuna's tables from the models (contributors only).

    python tools/migrations.py revision -m "add outbox"   # a new revision after a model change
    python tools/migrations.py initial                    # rewrite 0001 from today's models

Both autogenerate against a throwaway SQLite database (empty for ``initial``; upgraded to the
current head for ``revision``), then format the file with ruff. Read the result before
committing: autogenerate does not see renames or data moves.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quart_authtuna.core.db import migrations  # noqa: E402

VERSIONS = migrations.SCRIPT_LOCATION / "versions"


def _autogenerate(message: str, rev_id: str, upgrade_first: bool) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp}/scratch.db")

        def work(conn: Connection) -> Path:
            config = migrations.alembic_config(conn)
            if upgrade_first:
                command.upgrade(config, "head")
            script = command.revision(config, message, autogenerate=True, rev_id=rev_id)
            assert script is not None and not isinstance(script, list)
            return Path(script.path)

        async def main() -> Path:
            try:
                return await migrations.on_connection(engine, None, work)
            finally:
                await engine.dispose()

        return asyncio.run(main())


def _format(path: Path) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([str(ruff), "format", "-q", str(path)], check=True)
    subprocess.run([str(ruff), "check", "--fix", "-q", str(path)], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("initial", help="rewrite the initial revision from today's models")
    rev = sub.add_parser("revision", help="a new revision: the models minus the head")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.what == "initial":
        for old in VERSIONS.glob("*.py"):
            old.unlink()
        path = _autogenerate("initial schema", "0001", upgrade_first=False)
    else:
        count = len(list(ScriptDirectory(str(migrations.SCRIPT_LOCATION)).walk_revisions()))
        path = _autogenerate(args.message, f"{count + 1:04d}", upgrade_first=True)
    _format(path)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
