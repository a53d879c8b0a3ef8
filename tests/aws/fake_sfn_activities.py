"""A stand-in for the activity side of the Step Functions API, for the Python and Node activity
worker tests on aws://: moto 5.2 has no GetActivityTask.

It speaks Step Functions' wire protocol (JSON 1.0: POST / with `X-Amz-Target:
AWSStepFunctions.<Action>`) for GetActivityTask, SendTaskHeartbeat, SendTaskSuccess and
SendTaskFailure, hands out the tasks queued through `POST /test/tasks` ({"activityArn", "input"}
with `input` as JSON text), answers unknown tokens with TaskDoesNotExist, and records every
request for `GET /test/requests`. Answers follow the Step Functions API reference
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetActivityTask.html): a
poll without a task returns `{}`, a completed task's token is no longer valid.

    python tests/aws/fake_sfn_activities.py     # prints "PORT <n>" and serves until killed
"""

import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POLL_SECONDS = 1.0  # Step Functions long-polls up to 60 s; a test needs less.


class State:
    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.queues: dict[str, list[dict]] = {}
        self.open_tokens: set[str] = set()
        self.requests: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: str, message: str) -> None:
        self._reply(400, {"__type": f"com.amazonaws.states#{code}", "message": message})

    def do_GET(self) -> None:
        if self.path == "/test/requests":
            with self.state.lock:
                return self._reply(200, {"requests": self.state.requests})
        self._reply(404, {})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if self.path == "/test/tasks":
            token = f"token-{uuid.uuid4().hex}"
            with self.state.lock:
                self.state.queues.setdefault(body["activityArn"], []).append({"taskToken": token, "input": body["input"]})
                self.state.open_tokens.add(token)
                self.state.lock.notify_all()
            return self._reply(200, {"taskToken": token})
        action = self.headers.get("X-Amz-Target", "").removeprefix("AWSStepFunctions.")
        with self.state.lock:
            self.state.requests.append({"action": action, "body": body})
        if action == "GetActivityTask":
            deadline = time.monotonic() + POLL_SECONDS
            with self.state.lock:
                queue = self.state.queues.setdefault(body.get("activityArn", ""), [])
                while not queue and time.monotonic() < deadline:
                    self.state.lock.wait(deadline - time.monotonic())
                task = queue.pop(0) if queue else None
            return self._reply(200, task or {})
        if action in ("SendTaskHeartbeat", "SendTaskSuccess", "SendTaskFailure"):
            token = body.get("taskToken", "")
            with self.state.lock:
                if token not in self.state.open_tokens:
                    return self._error("TaskDoesNotExist", f"Task Does Not Exist: '{token}'")
                if action != "SendTaskHeartbeat":
                    self.state.open_tokens.discard(token)
            return self._reply(200, {})
        self._error("UnknownOperationException", f"{action} is not served by this stand-in")


def serve(port: int = 0) -> ThreadingHTTPServer:
    """Starts the server on a loopback port in a daemon thread."""
    handler = type("BoundHandler", (Handler,), {"state": State()})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    server = serve()
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)
