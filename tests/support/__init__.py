"""What the tests share: paths to the suite's own data, config builders, waits on a
condition, a local feed server and a webhook receiver. Import from here
(`from tests.support import wait_for`); test modules never import each other."""

from .config import daemon_config, write_config
from .feeds import LocalFeed, local_feed, rss
from .paths import DATA, ROOT, SEED
from .ports import free_port
from .waiting import async_wait_for, wait_for
from .webhooks import Receiver, receiving

__all__ = [
    "DATA",
    "ROOT",
    "SEED",
    "LocalFeed",
    "Receiver",
    "async_wait_for",
    "daemon_config",
    "free_port",
    "local_feed",
    "receiving",
    "rss",
    "wait_for",
    "write_config",
]
