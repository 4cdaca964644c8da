"""The nodes of one job acting together when each runs its own launcher ("node mode").

On Batch AI one agent ran a job on all its nodes: job preparation on every node, then the
toolkit processes, and the job ended when every worker had ended. In node mode (one launcher per
machine, e.g. one Azure ML process per node) the launchers keep that order by talking to each
other over TCP: node 0 listens on its own address (``NodeSpec.address``), the others connect.

Protocol: JSON lines over one connection per node, all requests from the members, verdicts from
node 0::

    member -> node 0   {"event": "hello", "token": T, "node": i, "vars": {...}}   at start
    node 0 -> member   {"event": "welcome", "token": T}
    member -> node 0   {"event": "prepared", "node": i, "failure": null | {...}}  after setup + job prep
    node 0 -> member   {"event": "start", "env": {...}} | {"event": "abort", "failure": {...}}
    member -> node 0   {"event": "done", "node": i, "code": c}                  its workers ended
    node 0 -> member   {"event": "stop"}                                         the job ended

* Barrier: node 0 starts the toolkit processes only when every node's setup task and job
  preparation succeeded; the first failure (in the order they were reported) fails the job on every
  node, and no toolkit process starts anywhere.
* The job ends when every "main" process (every worker: ps processes are not waited for) on every
  node has ended; node 0 then tells the others to stop what is left (a parameter server on a
  ps-only node) and exit.
* ``vars`` carries the member's own ``AZ_BATCHAI_*`` values (its paths): node 0 passes them to
  processes that ``mpirun`` starts on that node (see ``ssh.install_forwarding``).
* ``env`` carries what node 0 decides for every node after the barrier (PyTorch's rendezvous address).
* Authentication: a token shared by the nodes of the job (from the launch spec); connections
  without it are dropped. A member that loses node 0, or a node 0 that loses a member before the
  end, stops its processes and fails the job.

The port is ``rendezvous["port"]``, or the first free one of the next ``ports - 1`` (members try
them in turn; only node 0's answers with the token). Standard library only.
"""

from __future__ import annotations

import hmac
import json
import queue
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

DEFAULT_TIMEOUT = 600.0  # how long nodes wait for each other to join (image pulls differ per node)
_LINE_LIMIT = 1 << 20


class GroupError(Exception):
    """The nodes of the job could not act together (a node never joined, or was lost)."""


def _send(sock: socket.socket, message: Dict[str, Any]) -> None:
    sock.sendall((json.dumps(message) + "\n").encode("utf-8"))


class _Lines:
    """Reads JSON lines from a socket (blocking, in a reader thread or with a timeout)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self) -> Optional[Dict[str, Any]]:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > _LINE_LIMIT:
                raise ValueError("message too long")
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line.decode("utf-8"))
        if not isinstance(message, dict):
            raise ValueError("not a JSON object")
        return message


def _reader(lines: _Lines, node: int, events: "queue.Queue[Tuple[int, Dict[str, Any]]]") -> None:
    while True:
        try:
            message = lines.read()
        except (OSError, ValueError):
            message = None
        if message is None:
            events.put((node, {"event": "lost"}))
            return
        events.put((node, message))


class Coordinator:
    """Node 0's side: accepts the other nodes, decides the barrier and the end of the job."""

    def __init__(self, host: str, port: int, ports: int, token: str, node_count: int,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.token = token
        self.node_count = node_count
        self.timeout = timeout
        self.events: "queue.Queue[Tuple[int, Dict[str, Any]]]" = queue.Queue()
        self.members: Dict[int, socket.socket] = {}
        self.vars: Dict[int, Dict[str, str]] = {}
        self.host = host
        self._lock = threading.Lock()
        self._closed = False
        self.listener = self._bind(host, port, max(1, ports))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, name="batchai-group-accept", daemon=True).start()

    @staticmethod
    def _bind(host: str, port: int, ports: int) -> socket.socket:
        last: Optional[OSError] = None
        for candidate in range(port, port + ports):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, candidate))
                sock.listen(64)
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        raise GroupError(f"node 0 cannot listen for the other nodes on {host}:{port}-{port + ports - 1}: {last}")

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _peer = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._greet, args=(conn,), name="batchai-group-greet", daemon=True).start()

    def _greet(self, conn: socket.socket) -> None:
        conn.settimeout(30.0)
        lines = _Lines(conn)
        try:
            hello = lines.read()
        except (OSError, ValueError):
            hello = None
        node = hello.get("node") if hello else None
        if (not hello or hello.get("event") != "hello" or not isinstance(node, int)
                or not hmac.compare_digest(str(hello.get("token") or ""), self.token)
                or not 0 < node < self.node_count):
            conn.close()  # not one of ours
            return
        with self._lock:
            if node in self.members or self._closed:
                conn.close()
                return
            self.members[node] = conn
            self.vars[node] = {str(k): str(v) for k, v in (hello.get("vars") or {}).items()}
        conn.settimeout(None)
        try:
            _send(conn, {"event": "welcome", "token": self.token})
        except OSError:
            pass
        self.events.put((node, {"event": "joined"}))
        _reader(lines, node, self.events)

    # -- phases ------------------------------------------------------------------------------------
    def gather(self, own_failure: Optional[Dict[str, Any]], check: Callable[[], None]
               ) -> Tuple[Optional[Dict[str, Any]], List[int]]:
        """Wait for every node's "prepared" report. Returns (the first failure, nodes in the order
        they reported); node 0's own report counts when this is called."""
        order: List[int] = []
        failures: List[Dict[str, Any]] = []
        prepared: Dict[int, bool] = {}

        def take(node: int, message: Dict[str, Any]) -> None:
            event = message.get("event")
            if event == "lost":
                raise GroupError(f"node {node} left the job before its job preparation was reported")
            if event == "prepared" and node not in prepared:
                prepared[node] = True
                order.append(node)
                if message.get("failure"):
                    failures.append(dict(message["failure"], node=node))

        self._drain(take)
        prepared[0] = True
        order.append(0)
        if own_failure:
            failures.append(dict(own_failure, node=0))
        deadline = time.monotonic() + self.timeout
        while len(prepared) < self.node_count:
            check()
            if time.monotonic() > deadline:
                missing = sorted(set(range(self.node_count)) - set(prepared))
                joined = sorted(self.members)
                raise GroupError(f"node(s) {', '.join(map(str, missing))} did not report their job preparation "
                                 f"within {self.timeout:.0f} s (joined: {joined or 'none'})")
            self._drain(take, wait=0.05)
        return (failures[0] if failures else None), order

    def start(self, env: Dict[str, str]) -> None:
        self._broadcast({"event": "start", "env": env})

    def abort(self, failure: Dict[str, Any]) -> None:
        self._broadcast({"event": "abort", "failure": failure})

    def poll_done(self, done: Dict[int, Optional[int]]) -> None:
        """Record members' "done" reports (node -> first non-zero exit code or 0); raises if a
        member was lost before reporting."""

        def take(node: int, message: Dict[str, Any]) -> None:
            if message.get("event") == "done":
                done[node] = message.get("code")
            elif message.get("event") == "lost" and node not in done:
                raise GroupError(f"node {node} stopped answering before its processes ended")

        self._drain(take)

    def stop(self) -> None:
        self._broadcast({"event": "stop"})

    def close(self) -> None:
        self._closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self._lock:
            for conn in self.members.values():
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

    # -- helpers -----------------------------------------------------------------------------------
    def _drain(self, take: Callable[[int, Dict[str, Any]], None], wait: float = 0.0) -> None:
        try:
            item = self.events.get(timeout=wait) if wait else self.events.get_nowait()
        except queue.Empty:
            return
        while True:
            take(*item)
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return

    def _broadcast(self, message: Dict[str, Any]) -> None:
        with self._lock:
            members = list(self.members.values())
        for conn in members:
            try:
                _send(conn, message)
            except OSError:
                pass  # a lost member shows up as a "lost" event


class Member:
    """Node i's side (i > 0): joins node 0, reports, follows its verdicts."""

    def __init__(self, host: str, port: int, ports: int, token: str, node: int, vars: Dict[str, str],
                 check: Callable[[], None], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.node = node
        self.events: "queue.Queue[Tuple[int, Dict[str, Any]]]" = queue.Queue()
        self.sock = self._join(host, port, max(1, ports), token, vars, check, timeout)
        self.stopped = False
        self.lost = False

    def _join(self, host: str, port: int, ports: int, token: str, vars: Dict[str, str],
              check: Callable[[], None], timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        delay = 0.05
        last = "no answer"
        while True:
            for candidate in range(port, port + ports):
                check()
                try:
                    sock = socket.create_connection((host, candidate), timeout=5.0)
                except OSError as exc:
                    last = str(exc)
                    continue
                try:
                    _send(sock, {"event": "hello", "token": token, "node": self.node, "vars": vars})
                    lines = _Lines(sock)
                    answer = lines.read()
                except (OSError, ValueError) as exc:
                    sock.close()
                    last = str(exc)
                    continue
                if not answer or answer.get("event") != "welcome" or \
                        not hmac.compare_digest(str(answer.get("token") or ""), token):
                    sock.close()
                    last = f"{host}:{candidate} is not this job's node 0"
                    continue
                sock.settimeout(None)
                threading.Thread(target=_reader, args=(lines, 0, self.events), name="batchai-group-reader",
                                 daemon=True).start()
                return sock
            if time.monotonic() > deadline:
                raise GroupError(f"node {self.node} could not join node 0 at {host}:{port} within "
                                 f"{timeout:.0f} s ({last})")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def prepared(self, failure: Optional[Dict[str, Any]]) -> None:
        _send(self.sock, {"event": "prepared", "node": self.node, "failure": failure})

    def verdict(self, check: Callable[[], None]) -> Tuple[str, Dict[str, Any]]:
        """Wait for node 0's decision: ("start", env) or ("abort", failure)."""
        while True:
            check()
            try:
                _node, message = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            event = message.get("event")
            if event == "start":
                return "start", {str(k): str(v) for k, v in (message.get("env") or {}).items()}
            if event == "abort":
                return "abort", dict(message.get("failure") or {})
            if event in ("lost", "stop"):
                raise GroupError(f"node {self.node} lost node 0 while waiting for the other nodes' job preparation")

    def done(self, code: int) -> None:
        try:
            _send(self.sock, {"event": "done", "node": self.node, "code": code})
        except OSError:
            self.lost = True

    def poll_stop(self) -> bool:
        """True once node 0 said the job ended; raises when node 0 is gone without saying so."""
        while not self.stopped:
            try:
                _node, message = self.events.get_nowait()
            except queue.Empty:
                return False
            if message.get("event") == "stop":
                self.stopped = True
            elif message.get("event") == "lost":
                raise GroupError(f"node {self.node} lost node 0 before the job ended")
        return True

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


Group = Union[Coordinator, Member]


def free_port(host: str) -> int:
    """A port free on ``host`` now (for a process that binds it right after, e.g. PyTorch's rank 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
