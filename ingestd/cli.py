"""Command line. Each command parses its arguments and calls the library
function the daemon and the tests call too; no logic lives here.

Exit codes: 0 success; 1 some input could not be used (replay), a feed failed
(`run --once`) or an unhealthy daemon (healthcheck); 2 bad config or usage.

Config: `--config PATH` goes before or after the command; else $INGESTD_CONFIG;
else config/ingestd.toml. A file so named must exist, and every command that reads
a config needs one, but `replay` (test mode: built-in defaults when there is none).
Each such command reports unknown INGESTD_* variables once: `run` and `replay` in
their log, the others on stderr.

Cheap commands stay cheap: `--help`, `healthcheck` and `check-config` run every
few seconds in containers and scripts, so the pipeline's heavy stages (trafilatura,
numpy, the language model, the store, the HTTP stack) are imported inside the
handlers that use them, never at the top of this module.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import __version__, api_cli, feeds_cli
from .config import Config, _redact_url, load_config, reference
from .errors import ConfigError

if TYPE_CHECKING:
    from .store import Store

# Said here as well as in ingestd.webhooks_cli so that listing the command does not
# import the webhooks package (and with it the store and the HTTP client).
_WEBHOOKS_HELP = "Webhook subscriptions: list, show, add, change, remove, test, redeliver, enable, disable."
_CONFIG_HELP = "config file (default: $INGESTD_CONFIG, else config/ingestd.toml); before or after the command"


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(_command_word(argv))
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except Exception as exc:
        # by module, not class: naming the classes would import both engines into every command
        if type(exc).__module__.partition(".")[0] not in STORAGE_ERROR_MODULES:
            raise
        print(f"storage error: {(str(exc).strip() or type(exc).__name__).splitlines()[0]}", file=sys.stderr)
        return 1


STORAGE_ERROR_MODULES = ("sqlite3", "psycopg", "psycopg_pool")


def _command_word(argv: Sequence[str]) -> str:
    """The command about to run ("" for none): the first argument that is no option
    and not the value of the top level's one option with a value, --config."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def _parser(running: str | None = None) -> argparse.ArgumentParser:
    """The whole command tree; given the command `running`, the webhooks subtree
    is only listed (not built) unless that command is `webhooks`."""
    parser = argparse.ArgumentParser(
        prog="ingestd",
        description="Feed and wire ingestion daemon: poll, normalize to IPTC "
        "ninjs, deduplicate, store, and push to subscribers.",
    )
    parser.add_argument("--version", action="version", version=f"ingestd {__version__}")
    parser.add_argument("--config", metavar="PATH", help=_CONFIG_HELP)
    commands = parser.add_subparsers(metavar="COMMAND")

    def command(name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        # SUPPRESS: given before the command only, the top level's value stays
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=_CONFIG_HELP)
        return sub

    run = with_config(command("run", _run, "Run the daemon: poll feeds on schedule until SIGTERM/SIGINT."))
    run.add_argument(
        "--once", action="store_true", help="poll every feed once, wait for the work to finish, exit"
    )

    with_config(
        command(
            "migrate",
            _migrate,
            "Create or upgrade the database's schema (the named migrations not applied yet), then exit.",
        )
    )

    replay = with_config(
        command(
            "replay",
            _replay,
            "Test mode: run the pipeline on local files and folders (no network) "
            "and print the events, one JSON object a line.",
        )
    )
    replay.add_argument("--db", metavar="PATH", help="database to use (default: a temporary one)")
    replay.add_argument(
        "--source", metavar="NAME", help="source profile for files of no configured feed (default: detected)"
    )
    replay.add_argument(
        "--now",
        metavar="TIME",
        help="the clock, ISO 8601 (UTC if no zone); same inputs and --now give byte-identical output",
    )
    replay.add_argument(
        "paths", nargs="+", metavar="PATH", help="feed, page or story files, or folders of them"
    )

    check = with_config(
        command(
            "check-config",
            _check_config,
            "Check a config file as `run` does before it opens the database: one line per "
            "problem (file: key: reason); exit 2 if any.",
        )
    )
    check.add_argument("path", nargs="?", metavar="PATH", help="the file (or --config)")

    command(
        "config-reference",
        _config_reference,
        "Print the config reference (Markdown) generated from the settings table.",
    )

    health = with_config(
        command(
            "healthcheck",
            _healthcheck,
            "Exit 0 if the running daemon's /healthz answers 200, else 1 "
            "(for a container HEALTHCHECK; needs no curl).",
        )
    )
    health.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long to wait for the answer (default 3)",
    )

    storage = commands.add_parser("storage", help="Move an install between storage engines: copy.")
    storage_commands = storage.add_subparsers(metavar="ACTION", required=True)
    storage_copy = storage_commands.add_parser(
        "copy",
        help="copy every row (stories, events, deliveries, keys, feeds, history) of a SQLite "
        "database into an empty PostgreSQL one, migrated first; the source is only read",
    )
    storage_copy.set_defaults(handler=_storage_copy)
    storage_copy.add_argument(
        "source",
        metavar="SRC",
        help="sqlite:///PATH, relative to the current folder (sqlite:////PATH: absolute), or env:NAME, file:PATH",
    )
    storage_copy.add_argument(
        "target", metavar="DST", help="postgresql://USER@HOST/DATABASE (or env:NAME, file:PATH)"
    )

    feeds = commands.add_parser(
        "feeds", help="List feeds and their state; add, remove, disable, enable or resume one."
    )
    feeds_commands = feeds.add_subparsers(metavar="ACTION", required=True)
    feeds_list = feeds_commands.add_parser("list", help="each feed's state, errors, next poll")
    feeds_list.set_defaults(handler=_feeds_list)
    with_config(feeds_list).add_argument("--json", action="store_true", help="JSON lines")
    feeds_resume = feeds_commands.add_parser(
        "resume", help="take a parked or erroring feed back to polling now"
    )
    feeds_resume.set_defaults(handler=_feeds_resume)
    with_config(feeds_resume).add_argument("feed_id", metavar="ID")
    identity_reset = feeds_commands.add_parser(
        "identity-reset",
        help="forget a feed's learnt identity policy; its next stories choose again, from guid",
    )
    identity_reset.set_defaults(handler=_feeds_identity_reset)
    with_config(identity_reset).add_argument("feed_id", metavar="ID")
    api_cli.add_feeds_actions(feeds_commands, with_config)
    feeds_cli.add_runtime_actions(feeds_commands, with_config)

    stories = commands.add_parser("stories", help="List stored stories; show one; export and import them.")
    stories_commands = stories.add_subparsers(metavar="ACTION", required=True)
    stories_list = stories_commands.add_parser("list", help="newest stories first")
    stories_list.set_defaults(handler=_stories_list)
    with_config(stories_list).add_argument("--limit", type=int, default=20)
    stories_list.add_argument("--feed", metavar="ID")
    stories_list.add_argument("--json", action="store_true", help="JSON lines")
    stories_show = stories_commands.add_parser("show", help="one story's ninjs document and ingest data")
    stories_show.set_defaults(handler=_stories_show)
    with_config(stories_show).add_argument("story_id", metavar="ID")
    stories_show.add_argument("--json", action="store_true", help="one JSON line (default: indented)")
    stories_export = stories_commands.add_parser(
        "export", help="every story version stored since TIME, as events (the subscriber shape), one a line"
    )
    stories_export.set_defaults(handler=_stories_export)
    with_config(stories_export).add_argument(
        "--since",
        required=True,
        metavar="TIME",
        help="ISO 8601 time (UTC if no zone), or how long ago: 6h, 2d",
    )
    stories_export.add_argument("--feed", metavar="ID", help="only this feed's stories")
    stories_import = stories_commands.add_parser(
        "import",
        help="store the events of an export (same ids and versions); importing twice changes nothing",
    )
    stories_import.set_defaults(handler=_stories_import)
    with_config(stories_import).add_argument(
        "file", metavar="FILE", nargs="?", default="-", help="an export (default: stdin)"
    )
    if running is None or running == "webhooks":
        from . import webhooks_cli

        webhooks_cli.register(commands, with_config)
    else:
        commands.add_parser("webhooks", help=_WEBHOOKS_HELP, description=_WEBHOOKS_HELP)
    return parser


def load(args: argparse.Namespace) -> Config:
    """The command's config (--config, else $INGESTD_CONFIG, else the default file),
    its unknown INGESTD_* variables reported on stderr."""
    config = load_config(getattr(args, "config", None))
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def _setup(args: argparse.Namespace, *, require_file: bool = True) -> Config:
    """`load` for the commands that log: logging set up from the config, the unknown
    INGESTD_* variables reported through it (one JSON object a line stays true)."""
    from . import logs

    config = load_config(getattr(args, "config", None), require_file=require_file)
    logs.configure(config.log.format, config.log.level)
    log = logs.get_logger()
    for warning in config.warnings:
        log.warning(
            "unknown environment variable, ignored", variable=warning.name, did_you_mean=warning.closest
        )
    return config


def _validated(config: Config) -> Config:
    """What `run` checks before it opens the database, beyond load_config: the
    source profiles. `check-config` calls this very function."""
    from .normalize import load_profiles

    load_profiles(config.normalize.sources_dir)
    return config


def _run(args: argparse.Namespace) -> int:
    config = _validated(_setup(args))  # a bad config stops here, before the heavy imports

    import asyncio

    from . import logs
    from .daemon import Daemon
    from .timeutil import utcnow

    started = utcnow()
    try:
        code = asyncio.run(Daemon(config, once=args.once).run())
    except OSError as exc:  # a taken port, an unwritable database folder: say which, no traceback
        logs.get_logger().error("daemon cannot start", error=str(exc))
        return 1
    if args.once and code == 0:
        code = _once_outcome(config, started)
    _exit_without_stragglers(code)
    return code


def _once_outcome(config: Config, started: datetime) -> int:
    """`run --once` for scripts and cron: 1 when any feed's poll of this run failed."""
    from . import logs
    from .store.engine import open_store

    store = open_store(config.storage.url)
    failed = store.failed_polls_since(started)
    store.close()
    if failed:
        logs.get_logger().error("feeds failed", feeds=sorted(failed))
    return 1 if failed else 0


def _exit_without_stragglers(code: int) -> None:
    """A parse still running in a worker thread must not hold the exit past the
    shutdown deadline: what it would have produced is re-fetched next start."""
    import logging
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _replay(args: argparse.Namespace) -> int:
    from . import normalize
    from .progress import progress_bar
    from .replay import replay
    from .timeutil import parse_now

    config = _setup(args, require_file=False)
    try:
        now = parse_now(args.now) if args.now else datetime.now(UTC)
    except ValueError:
        print(f"--now: {args.now!r} is not an ISO 8601 time", file=sys.stderr)
        return 2
    profiles = normalize.load_profiles(config.normalize.sources_dir)
    summary = replay(
        args.paths,
        config=config,
        profiles=profiles,
        now=now,
        out=sys.stdout,
        db_path=args.db,
        source=args.source,
        progress=progress_bar("inputs"),
    )
    return summary.exit_code


def _check_config(args: argparse.Namespace) -> int:
    if args.path:
        args.config = args.path
    config = _validated(load(args))
    print(f"{config.file}: ok ({len(config.feeds)} feeds)")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .store.engine import open_store

    config = load(args)
    store = open_store(config.storage.url)
    store.close()
    print(
        f"{_redact_url(config.storage.url)}: "
        + (f"applied {', '.join(store.applied)}" if store.applied else "up to date")
    )
    return 0


def _config_reference(args: argparse.Namespace) -> int:
    sys.stdout.write(reference())
    return 0


def _healthcheck(args: argparse.Namespace) -> int:
    """GET /healthz on the daemon's own [http] listen address (no curl in the image).

    The standard library's client, not httpx: a container runs this every 30 s under
    a CPU limit, and httpx alone would double its start-up time and memory."""
    import http.client

    config = load(args)
    host, _, port = config.http.listen.rpartition(":")
    host = host.strip("[]")
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    connection = http.client.HTTPConnection(host, int(port), timeout=args.timeout)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException) as exc:
        print(f"unhealthy: {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"unhealthy: {url}: {response.status} {text}", file=sys.stderr)
        return 1
    print(f"healthy: {url}: {text}")
    return 0


def _storage_copy(args: argparse.Namespace) -> int:
    from .storage_copy import CopyError, copy

    try:
        copied = copy(args.source, args.target)
    except CopyError as exc:
        print(f"storage copy: {exc}", file=sys.stderr)
        return 1
    width = max((len(name) for name, _ in copied.tables), default=0)
    for name, rows in copied.tables:
        print(f"{name.ljust(width)}  {rows}")
    print(f"copied {sum(rows for _, rows in copied.tables)} rows into {copied.target}")
    return 0


def _open_store(args: argparse.Namespace) -> Store:
    from .store.engine import open_store

    return open_store(load(args).storage.url)


def _feeds_list(args: argparse.Namespace) -> int:
    from .models import credentials_summary

    store = _open_store(args)
    feeds = store.list_feeds()
    policies = store.identity_policies()
    disabled = store.disabled_feeds()
    store.close()
    columns = (
        "id",
        "state",
        "error_count",
        "last_success_at",
        "next_poll_at",
        "identity",
        "last_error",
        "url",
        "disabled",
        "credentials",
    )
    rows = []
    for feed in feeds:
        policy = policies.get(feed.id)
        identity = f"{policy.name}{' (pinned)' if policy.pinned else ''}" if policy else None
        extra = {"identity": identity, "disabled": feed.id in disabled}
        if not args.json:  # JSON keeps the set/unset table; a terminal gets it in words
            extra["credentials"] = credentials_summary(feed.credentials) or None
        rows.append({c: extra[c] if c in extra else _plain(getattr(feed, c)) for c in columns})
    _print_rows(rows, columns, args.json)
    return 0


def _feeds_resume(args: argparse.Namespace) -> int:
    store = _open_store(args)
    resumed = store.resume_feed(args.feed_id, datetime.now(UTC))
    store.close()
    if not resumed:
        print(f"no feed {args.feed_id!r}", file=sys.stderr)
        return 1
    print(f"{args.feed_id}: resumed, polls now")
    return 0


def _feeds_identity_reset(args: argparse.Namespace) -> int:
    store = _open_store(args)
    reset = store.reset_identity_policy(args.feed_id)
    store.close()
    if not reset:
        print(f"{args.feed_id}: no learnt identity policy", file=sys.stderr)
        return 1
    print(f"{args.feed_id}: identity policy forgotten; the next poll chooses again")
    return 0


def _stories_list(args: argparse.Namespace) -> int:
    store = _open_store(args)
    rows = store.list_stories(limit=args.limit, feed_id=args.feed)
    store.close()
    _print_rows(rows, ("id", "version", "first_created", "feed_id", "headline"), args.json)
    return 0


def _stories_show(args: argparse.Namespace) -> int:
    store = _open_store(args)
    row = store.get_story(args.story_id)
    store.close()
    if row is None:
        print(f"no story {args.story_id!r}", file=sys.stderr)
        return 1
    document = {"story": json.loads(row["ninjs"]), "ingest": json.loads(row["ingest"])}
    print(json.dumps(document, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def _stories_export(args: argparse.Namespace) -> int:
    from .config import parse_since
    from .exchange import feed_of
    from .timeutil import utcnow

    try:
        since = parse_since(args.since, utcnow())
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return 2
    store = _open_store(args)
    try:
        for _, body in store.events_since(since):
            if args.feed is None or feed_of(json.loads(body)) == args.feed:
                sys.stdout.write(body + "\n")
    finally:
        store.close()
    return 0


def _stories_import(args: argparse.Namespace) -> int:
    from . import compose
    from .exchange import BadEvent, import_intents, parse_line, story_id_of

    try:
        stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    store = _open_store(args)
    imported = present = bad = 0
    try:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                event = parse_line(line)
                row = store.get_story(story_id_of(event))
                intents = import_intents(event, row["version"] if row else None)
            except BadEvent as exc:
                bad += 1
                print(f"{args.file}:{number}: {exc}", file=sys.stderr)
                continue
            compose.apply_alone(store, intents)
            imported, present = (imported + 1, present) if intents else (imported, present + 1)
    finally:
        store.close()
        if stream is not sys.stdin:
            stream.close()
    print(f"{imported} imported, {present} already stored, {bad} not imported", file=sys.stderr)
    return 1 if bad else 0


def _plain(value: Any) -> Any:
    from .timeutil import to_iso

    return to_iso(value) if isinstance(value, datetime) else value


def _print_rows(rows: list[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = [list(columns)] + [["" if r.get(c) is None else str(r.get(c)) for c in columns] for r in rows]
    widths = [min(max(len(line[i]) for line in table), 60) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell[:60].ljust(w) for cell, w in zip(line, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
