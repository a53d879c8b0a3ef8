"""An HTTP proxy in front of an AWS endpoint (moto) that answers a share of requests itself
with a server error or a throttling error, without forwarding them, and forwards the rest.
It can also lose answers: forward a request, then answer it with a 500 as if the answer had
been lost after the write was made (every n-th one of an operation, or a random share of the
DynamoDB writes). And it can fail chosen EventBridge `PutEvents` entries (`fail_put_events`).

    proxy = FaultProxy(target="http://127.0.0.1:5000", rate=0.3, seed=7); proxy.start(); ...; proxy.stop()

As a process, for the Rust and Node tests (prints its URL on the first line of stdout, serves
until killed; `GET /__proxy/stats` answers {"injected", "forwarded", "lost", "entries_seen",
"entries_failed"} as JSON):

    python tests/aws/fault_proxy.py TARGET [--rate R] [--lose-rate L] [--seed S] [--fail-put-events]
"""

import argparse
import json
import sys

import http.client
import random
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DYNAMODB_FAULTS = [
    (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected internal error"),
    (503, "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "injected unavailability"),
    (400, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "injected throttling"),
    (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "injected throughput error"),
]
# The DynamoDB operations whose answers `lose_rate` loses: the writes.
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
S3_FAULTS = [(500, "InternalError"), (503, "SlowDown"), (503, "ServiceUnavailable")]
# The messages of the `PutEvents` entries `fail_put_events` fails, by their detail's `fail`.
PUT_EVENTS_FAILURES = {"always": "injected permanent failure", "once": "injected one-time failure"}


class FaultProxy:
    def __init__(self, target: str, rate: float, seed: int, only=None, lose_every=0, lose_operation=None, lose_rate=0.0, fail_put_events=False) -> None:
        """`only(method, path)`, when given, limits faults to the requests it accepts.
        `lose_every` = n > 0 loses the answer of every n-th forwarded DynamoDB `lose_operation`
        (say "PutItem"), so a retry of a lost answer is never lost itself. `lose_rate` loses the
        answers of that share of the forwarded DynamoDB writes, at random.
        `fail_put_events` fails EventBridge `PutEvents` entries with `InternalFailure`: an entry
        whose detail has `"fail": "once"` on its first attempt only, `"fail": "always"` on every
        attempt (attempts are told apart by the detail's `n`). Failed entries are not forwarded
        (so never delivered); the others are, and the answer is merged back in order."""
        self.target = urllib.parse.urlsplit(target)
        self.rate = rate
        self.only = only
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.injected = 0
        self.forwarded = 0
        self.lose_every = lose_every
        self.lose_operation = lose_operation
        self.lose_rate = lose_rate
        self.lost = 0
        self.matching = 0
        self.fail_put_events = fail_put_events
        # Times each `PutEvents` entry (by its detail's `n`) reached the proxy, and the number
        # of entries it failed (with `fail_put_events`).
        self.entries_seen: dict[int, int] = {}
        self.entries_failed = 0
        # The DynamoDB operations forwarded (X-Amz-Target without its service prefix), in order.
        self.operations: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm and
            # delayed ACKs add 40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

            def _reply(self, status: int, headers: list, body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                body = self._body()
                if self.path == "/__proxy/stats":
                    with proxy.lock:
                        stats = {
                            "injected": proxy.injected,
                            "forwarded": proxy.forwarded,
                            "lost": proxy.lost,
                            "entries_seen": {str(n): count for n, count in proxy.entries_seen.items()},
                            "entries_failed": proxy.entries_failed,
                        }
                    self._reply(200, [("Content-Type", "application/json")], json.dumps(stats).encode())
                    return
                # Per `PutEvents` entry (with `fail_put_events`): None forwarded, or the message
                # it failed with here.
                verdicts = []
                with proxy.lock:
                    eligible = proxy.only is None or proxy.only(self.command, self.path)
                    fault = eligible and proxy.random.random() < proxy.rate
                    if fault:
                        proxy.injected += 1
                    elif proxy.fail_put_events and self.headers.get("X-Amz-Target") == "AWSEvents.PutEvents":
                        body, verdicts = proxy._fail_entries(body)
                    # Every entry failed here: nothing to forward.
                    failed_here = bool(verdicts) and all(verdicts)
                    if not fault and not failed_here:
                        proxy.forwarded += 1
                        target = self.headers.get("X-Amz-Target", "")
                        operation = target.split(".", 1)[1] if target.startswith("DynamoDB") else None
                        if operation:
                            proxy.operations.append(operation)
                        lose = bool(proxy.lose_every) and operation == proxy.lose_operation
                        if lose:
                            proxy.matching += 1
                            lose = proxy.matching % proxy.lose_every == 0
                        if not lose and proxy.lose_rate and operation in DYNAMODB_WRITES:
                            lose = proxy.random.random() < proxy.lose_rate
                        proxy.lost += lose
                if failed_here:
                    self._put_events_reply(200, {}, verdicts)
                    return
                if fault:
                    if self.headers.get("X-Amz-Target", "").startswith("DynamoDB"):
                        status, kind, message = proxy.random.choice(DYNAMODB_FAULTS)
                        payload = ('{"__type": "%s", "message": "%s"}' % (kind, message)).encode()
                        self._reply(status, [("Content-Type", "application/x-amz-json-1.0")], payload)
                    else:
                        status, code = proxy.random.choice(S3_FAULTS)
                        payload = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                        self._reply(status, [("Content-Type", "application/xml")], payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "content-length")}
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    if lose:
                        payload = b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "answer lost"}'
                        self._reply(500, [("Content-Type", "application/x-amz-json-1.0")], payload)
                    elif any(verdicts) and response.status == 200:
                        self._put_events_reply(200, json.loads(data), verdicts, response.getheaders())
                    else:
                        self._reply(response.status, response.getheaders(), data)
                finally:
                    conn.close()

            def _put_events_reply(self, status: int, answer: dict, verdicts: list, headers=()) -> None:
                """Answers `PutEvents` with the failed entries in their places and `answer`'s
                entries (those of the forwarded ones) in the others."""
                forwarded = iter(answer.get("Entries", []))
                entries = [
                    {"ErrorCode": "InternalFailure", "ErrorMessage": verdict} if verdict else next(forwarded)
                    for verdict in verdicts
                ]
                failed = sum(1 for entry in entries if "ErrorCode" in entry)
                payload = json.dumps({"FailedEntryCount": failed, "Entries": entries}).encode()
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
                self._reply(status, headers + [("Content-Type", "application/x-amz-json-1.1")], payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _fail_entries(self, body: bytes) -> tuple:
        """The `PutEvents` request `body` without the entries to fail, and a verdict per entry:
        None (forwarded) or the message it fails with. Called under the lock."""
        request = json.loads(body)
        forward, verdicts = [], []
        for entry in request.get("Entries", []):
            try:
                detail = json.loads(entry.get("Detail", "{}"))
            except ValueError:
                detail = {}
            if not isinstance(detail, dict):
                detail = {}
            n = detail.get("n") if isinstance(detail.get("n"), int) else -1
            seen = self.entries_seen[n] = self.entries_seen.get(n, 0) + 1
            fail = detail.get("fail")
            verdict = PUT_EVENTS_FAILURES[fail] if fail == "always" or (fail == "once" and seen == 1) else None
            if verdict:
                self.entries_failed += 1
            else:
                forward.append(entry)
            verdicts.append(verdict)
        request["Entries"] = forward
        return json.dumps(request).encode(), verdicts

    def start(self) -> "FaultProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--lose-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--fail-put-events",
        action="store_true",
        help='fail PutEvents entries whose detail has "fail": "once" (first attempt) or "always"',
    )
    args = parser.parse_args()
    proxy = FaultProxy(
        args.target, rate=args.rate, seed=args.seed, lose_rate=args.lose_rate, fail_put_events=args.fail_put_events
    )
    print(proxy.url, flush=True)
    proxy.server.serve_forever()


if __name__ == "__main__":
    main()
