"""A stand-in for Postmark's email API on 127.0.0.1, answering as Postmark documents.

django-anymail's real Postmark backend talks HTTP to it (ANYMAIL POSTMARK_API_URL), so the
whole path from the ledger through anymail to the provider's answers is exercised: accepted
messages get a MessageID, inactive (bounced or complained) recipients a 422 with ErrorCode 406,
a wrong server token a 401, too many requests a 429.
"""

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings

TOKEN = "postmark-server-token-for-tests"


class PostmarkApi:
    def __init__(self):
        self.inactive: set[str] = set()
        self.token = TOKEN
        self.rate_limited = 0  # answer this many requests with 429 before accepting again
        self.accepted: list[dict] = []  # each accepted message, with the MessageID given
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def settings(self) -> dict:
        """Django settings that send through this API with anymail's Postmark backend."""
        return {
            "EMAIL_PROVIDER": "postmark",
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL": {
                **settings.ANYMAIL,
                "POSTMARK_SERVER_TOKEN": TOKEN,
                "POSTMARK_API_URL": self.url,
            },
        }

    def __enter__(self) -> "PostmarkApi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, headers, payload: dict) -> tuple[int, dict]:
        with self.lock:
            if headers.get("X-Postmark-Server-Token") != self.token:
                return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
            if self.rate_limited:
                self.rate_limited -= 1
                return 429, {"ErrorCode": 429, "Message": "Rate limit exceeded."}
            to = payload["To"]
            if to.lower() in self.inactive:
                return 422, {
                    "ErrorCode": 406,
                    "Message": "You tried to send to a recipient that has been marked as "
                    f"inactive.\nFound inactive addresses: {to.lower()}.\nInactive recipients "
                    "are ones that have generated a hard bounce or a spam complaint. ",
                }
            message_id = str(uuid.uuid4())
            self.accepted.append({**payload, "MessageID": message_id})
            submitted = datetime.now(UTC).isoformat()
            return 200, {
                "To": to,
                "SubmittedAt": submitted,
                "MessageID": message_id,
                "ErrorCode": 0,
                "Message": "OK",
            }

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                status, body = api.answer(self.headers, payload)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
