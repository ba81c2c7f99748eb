"""A webhook receiver for trying ingestd out: verifies each POST's Standard Webhooks
signature, prints the story's headline, and answers 204 (401 on a bad signature).

    WEBHOOK_SECRET=whsec_… python examples/receiver.py [PORT]
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])
SEEN: set[str] = set()  # receivers dedupe on webhook-id: delivery is at least once


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = WEBHOOK.verify(body, dict(self.headers))
        except WebhookVerificationError as exc:
            self.send_response(401)
            self.end_headers()
            print(f"rejected: {exc}", flush=True)
            return
        self.send_response(204)
        self.end_headers()
        if event["id"] in SEEN:
            return
        SEEN.add(event["id"])
        story = event.get("data", {}).get("story", {})
        headline = (story.get("headlines") or [{}])[0].get("value", "")
        print(json.dumps({"type": event["type"], "id": event["id"], "headline": headline},
                         ensure_ascii=False), flush=True)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("0.0.0.0", port), Receiver).serve_forever()
