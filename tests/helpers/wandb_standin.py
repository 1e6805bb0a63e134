"""A loopback stand-in of the W&B server's GraphQL API, for tests of the real `wandb` client.

`wandb` 0.31's public API sends its GraphQL through its `wandb-core` helper process, so a
Python-level fake cannot show what a user sees; this serves the operations that `wandb.Api()` and
`api.runs(...)` send (`Viewer`, `GetDefaultEntity`, `Runs` with cursor paging and W&B's filter
subset) over HTTP on 127.0.0.1, from plain run dicts. Unknown operations get a GraphQL error and
are logged, so a new client's new query fails visibly. Also here: a port with nothing listening
and a server that accepts connections and never answers.

A run: {"name": <run id>, "displayName", "state", "createdAt", "sweepName", "config": {key:
value}, "summaryMetrics": {...}}. Config and summary are served as JSON text, config in W&B's
`{"key": {"value": v, "desc": null}}` form, as the real server does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "k" * 40  # any 40 characters: the client checks the length only


def wandb_run(results: dict[str, Any], run_id: str, *, sweep: str | None = None,
              state: str | None = None, created_at: str = "2026-11-26T10:00:00") -> dict[str, Any]:
    """A served run with the config and summary that `TimingTrainer` logs for `results`.

    config: the results' config plus the environment nested (as `wandb_logging.wandb_config`);
    summary: the figures flat, the eval metrics at top level (as `TimingResults.summary`).
    """
    config = dict(results.get("config") or {})
    config["environment"] = dict(results.get("environment") or {})
    summary = {k: v for k, v in results.items()
               if k not in ("config", "environment", "evaluations", "eval_metrics", "error",
                            "setup_time_parts", "created_at", "schema_version")}
    summary.update(results.get("eval_metrics") or {})
    return {"name": run_id, "displayName": f"run-{run_id}", "createdAt": created_at,
            "state": state or results.get("status", "finished"), "sweepName": sweep,
            "config": config, "summaryMetrics": summary}


class WandbStandIn:
    """The stand-in server: `with WandbStandIn(runs) as server: ... server.url ...`."""

    def __init__(self, runs: list[dict[str, Any]], entity: str = "ent", project: str = "proj"):
        self.runs = runs
        self.entity, self.project = entity, project
        self.log: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def operations(self) -> list[str]:
        return [entry["op"] for entry in self.log]

    def __enter__(self) -> WandbStandIn:
        stand_in = self

        class Handler(_Handler):
            server_state = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, op: str, variables: dict[str, Any]) -> tuple[Any, Any]:
        """(data, errors) of one GraphQL operation."""
        if op in ("Viewer", "GetDefaultEntity", "GetViewer"):
            return {"viewer": {"id": "VXNlcjox", "entity": self.entity, "username": self.entity,
                               "email": "user@example.invalid", "flags": "{}", "admin": False,
                               "teams": {"edges": [{"node": {"name": self.entity}}]}}}, None
        if op == "Runs":
            return self._runs_page(variables), None
        return None, [{"message": f"stand-in: unknown operation {op}"}]

    def _runs_page(self, variables: dict[str, Any]) -> dict[str, Any]:
        if (variables.get("entity"), variables.get("project")) != (self.entity, self.project):
            return {"project": None}
        selected = [r for r in self.runs if matches(r, json.loads(variables.get("filters") or "{}"))]
        selected.sort(key=lambda r: r["createdAt"])
        start = int(_decode(variables["cursor"])) if variables.get("cursor") else 0
        page = selected[start:start + int(variables.get("perPage") or 50)]
        edges = [{"node": _node(run), "cursor": _encode(str(start + i + 1))}
                 for i, run in enumerate(page)]
        return {"project": {
            "internalId": "UHJvamVjdDox", "runCount": len(selected), "readOnly": False,
            "runs": {"edges": edges, "pageInfo": {
                "endCursor": edges[-1]["cursor"] if edges else None,
                "hasNextPage": start + len(page) < len(selected)}}}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: WandbStandIn

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        op = body.get("operationName") or _operation_name(body.get("query", ""))
        variables = body.get("variables") or {}
        data, errors = self.server_state.answer(op, variables)
        self.server_state.log.append({"op": op, "variables": variables, "errors": errors})
        self._send(200, {"data": data, **({"errors": errors} if errors else {})})


def _operation_name(query: str) -> str:
    words = query.replace("(", " ").replace("{", " ").split()
    for keyword, name in zip(words, words[1:]):
        if keyword in ("query", "mutation"):
            return name
    return "<anonymous>"


def _encode(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _decode(text: str) -> str:
    return base64.b64decode(text).decode()


def _node(run: dict[str, Any]) -> dict[str, Any]:
    config = {k: {"value": v, "desc": None} for k, v in run.get("config", {}).items()}
    return {
        "id": _encode(f"Run:v1:{run['name']}"), "projectId": 1, "name": run["name"],
        "displayName": run.get("displayName"), "sweepName": run.get("sweepName"),
        "state": run["state"], "tags": [], "group": None, "jobType": None, "commit": None,
        "readOnly": False, "createdAt": run["createdAt"], "heartbeatAt": run["createdAt"],
        "description": None, "notes": None, "historyLineCount": 0,
        "user": {"name": "User", "username": "user"}, "historyKeys": {"keys": {}, "lastStep": -1},
        "config": json.dumps(config), "summaryMetrics": json.dumps(run.get("summaryMetrics", {})),
        "systemMetrics": "{}",
    }


def matches(run: dict[str, Any], filters: dict[str, Any]) -> bool:
    """W&B's filter subset the analysis sends: `$and`, `sweep`, `name` with `$nin`/`$in`."""
    for key, condition in filters.items():
        if key == "$and":
            if not all(matches(run, f) for f in condition):
                return False
            continue
        value = {"sweep": run.get("sweepName"), "name": run["name"]}[key]
        if isinstance(condition, dict):
            if "$nin" in condition and value in condition["$nin"]:
                return False
            if "$in" in condition and value not in condition["$in"]:
                return False
        elif value != condition:
            return False
    return True


def closed_port_url() -> str:
    """A loopback URL with nothing listening (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def hung_server() -> Iterator[str]:
    """A URL whose server accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
