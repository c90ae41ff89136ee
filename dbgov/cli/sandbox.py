"""``manage.py dbgov sandbox status|stop|reap|clean``: the server dbgov renders SQL on."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_OK, BaseSubcommand


def _size(num: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if num < 1024 or unit == "GB":
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1024
    return f"{num:.1f} GB"  # pragma: no cover


class Subcommand(BaseSubcommand):
    help = (
        "The sandbox where migration SQL is rendered: `status` (what runs, its templates, "
        "the render cache), `stop [--remove]` (stop the embedded server, delete it), "
        "`reap` (drop databases whose owner died), `clean` (drop templates, empty the cache)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["status", "stop", "reap", "clean"])
        parser.add_argument(
            "--remove", action="store_true", help="stop: also delete the cluster's folder"
        )
        parser.add_argument("--database", default="default", help="the target alias (status)")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, **options: Any) -> int:
        action = options["action"]
        try:
            return int(getattr(self, f"_{action}")(options))
        except CommandError:
            raise
        except Exception as exc:
            from ..sandbox import SandboxError

            if isinstance(exc, SandboxError) or exc.__class__.__module__.startswith("psycopg"):
                raise CommandError(f"sandbox {action}: {exc}", returncode=EXIT_ERROR) from exc
            raise

    # -- status --------------------------------------------------------------------------
    def _status(self, options: dict[str, Any]) -> int:
        from ..analysis.render_cache import cache_dir
        from ..conf import dbgov_settings
        from ..sandbox.cluster import EmbeddedCluster, sandbox_root
        from ..sandbox.disposable import list_disposables
        from ..sandbox.server import ServerAccess
        from ..sandbox.templates import list_templates, prefix

        doc: dict[str, Any] = {}
        if dbgov_settings.SANDBOX_URL:
            doc["kind"] = "dedicated"
            access = ServerAccess.from_url(str(dbgov_settings.SANDBOX_URL), label="SANDBOX_URL")
            accesses = [access]
        elif dbgov_settings.SANDBOX_ON_TARGET_SERVER:
            doc["kind"] = "target-server"
            accesses = [ServerAccess.from_alias(options["database"])]
        else:
            doc["kind"] = "embedded"
            doc["root"] = str(sandbox_root())
            clusters = EmbeddedCluster.existing()
            doc["clusters"] = []
            accesses = []
            for cluster in clusters:
                status = cluster.status()
                doc["clusters"].append({**asdict(status), "root": str(status.root)})
                if status.running:
                    accesses.append(
                        ServerAccess(
                            {k: v for k, v in cluster.conninfo().items() if k != "dbname"},
                            label=str(cluster.root),
                        )
                    )
        doc["templates"] = []
        doc["databases"] = []
        for access in accesses:
            for t in list_templates(access):
                doc["templates"].append(
                    {
                        "server": access.label,
                        "name": t.name,
                        "kind": t.kind,
                        "created": t.created,
                        "last_used": t.last_used,
                    }
                )
            for d in list_disposables(access, prefix()):
                doc["databases"].append({"server": access.label, **asdict(d)})
        directory = cache_dir()
        entries = list((directory / "render").rglob("*.json")) if directory else []
        doc["cache"] = {
            "dir": str(directory) if directory else None,
            "entries": len(entries),
            "bytes": sum(f.stat().st_size for f in entries),
        }
        if options["format"] == "json":
            self.stdout.write(json.dumps(doc, indent=2))
            return EXIT_OK
        self._write_status(doc)
        return EXIT_OK

    def _write_status(self, doc: dict[str, Any]) -> None:
        w = self.stdout.write
        w(self.style.MIGRATE_HEADING(f"sandbox: {doc['kind']}"))
        if doc["kind"] == "embedded":
            w(f"  folder: {doc['root']}")
            if not doc["clusters"]:
                w("  no embedded cluster yet (the next plan starts one)")
            for c in doc["clusters"]:
                state = f"running (pid {c['pid']})" if c["running"] else "stopped"
                w(f"  PostgreSQL {c['version']}: {state}, {_size(c['size_bytes'])}  {c['root']}")
                w(f"    binaries: {c['binaries']}")
        now = time.time()
        w(f"  templates: {len(doc['templates'])}")
        for t in doc["templates"]:
            w(f"    {t['name']}  {t['kind']}, used {int(now - t['last_used'])} s ago")
        w(f"  disposable databases: {len(doc['databases'])}")
        for d in doc["databases"]:
            owner = "owner alive" if d["alive"] else "ORPHANED (owner gone; `reap` drops it)"
            w(f"    {d['name']}  {d['purpose']} by pid {d['pid']} on {d['host']}: {owner}")
        cache = doc["cache"]
        if cache["dir"]:
            w(
                f"  render cache: {cache['entries']} entries, {_size(cache['bytes'])} in {cache['dir']}"
            )
        else:
            w("  render cache: off (DBGOV['CACHE_DIR'] = False)")

    # -- stop, reap, clean ------------------------------------------------------------------
    def _stop(self, options: dict[str, Any]) -> int:
        from ..sandbox.cluster import EmbeddedCluster

        clusters = EmbeddedCluster.existing()
        if not clusters:
            self.stdout.write("No embedded sandbox to stop.")
            return EXIT_OK
        for cluster in clusters:
            was_running = cluster.stop(remove=options["remove"])
            what = "stopped" if was_running else "was not running"
            if options["remove"]:
                what += ", removed"
            self.stdout.write(
                f"PostgreSQL {cluster.binaries.version} sandbox {what}: {cluster.root}"
            )
        return EXIT_OK

    def _running_accesses(self) -> list[Any]:
        from ..conf import dbgov_settings
        from ..sandbox.cluster import EmbeddedCluster
        from ..sandbox.server import ServerAccess

        if dbgov_settings.SANDBOX_URL:
            return [ServerAccess.from_url(str(dbgov_settings.SANDBOX_URL), label="SANDBOX_URL")]
        if dbgov_settings.SANDBOX_ON_TARGET_SERVER:
            return [ServerAccess.from_alias("default")]
        return [
            ServerAccess(
                {k: v for k, v in c.conninfo().items() if k != "dbname"}, label=str(c.root)
            )
            for c in EmbeddedCluster.existing()
            if c.is_running()
        ]

    def _reap(self, options: dict[str, Any]) -> int:
        from ..sandbox.disposable import reap
        from ..sandbox.templates import prefix

        dropped = [name for access in self._running_accesses() for name in reap(access, prefix())]
        self.stdout.write(
            f"Dropped {len(dropped)} orphaned database(s)"
            + (f": {', '.join(dropped)}" if dropped else ".")
        )
        return EXIT_OK

    def _clean(self, options: dict[str, Any]) -> int:
        from ..analysis.render_cache import cache_dir
        from ..sandbox.templates import evict

        dropped = [name for access in self._running_accesses() for name in evict(access, keep=0)]
        directory = cache_dir()
        if directory and directory.exists():
            shutil.rmtree(directory / "render", ignore_errors=True)
            shutil.rmtree(directory / "snapshots", ignore_errors=True)
        self.stdout.write(
            f"Dropped {len(dropped)} template(s); emptied the render cache"
            + (f" ({directory})" if directory else "")
            + "."
        )
        return EXIT_OK
