"""ingestd: a feed and wire ingestion daemon.

Poll feeds politely, normalize every story to IPTC ninjs 3.0, store each story
once (with versions), and hand the events to subscribers. The command line
(`ingestd`) and this package say the same thing: see `cli.py`.
"""

__version__ = "0.1.0"
