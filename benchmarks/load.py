"""Load on a local gunicorn: wrk when installed (Debian's ``wrk``), a small
Python load generator otherwise, and the workers' CPU time and memory read
from ``/proc``. Used by ``vs_wagtail_forms.py``.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from form_driver import BROWSER, PreparedPost

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # answers other than 2xx/3xx, and socket errors
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``example_site.wsgi`` under gunicorn, sync workers, on 127.0.0.1."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env, self.workers, self.port = env, workers, free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        binary = Path(sys.executable).parent / "gunicorn"
        if not binary.exists():
            sys.exit('gunicorn is missing: pip install -e ".[bench]"')
        self.process = subprocess.Popen(  # noqa: S603 -- our venv's gunicorn
            [
                str(binary),
                "example_site.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--log-level=warning",
            ],
            env=self.env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                sys.exit("gunicorn stopped while starting (see above)")
            if len(self.worker_pids()) == self.workers:
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        sys.exit("gunicorn did not start within 60 s")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU time of the workers so far."""
        total = 0
        for pid in self.worker_pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def peak_rss_mib(self) -> float:
        """The largest resident set a worker reached (VmHWM)."""
        peak = 0
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            peak = max(peak, int(match.group(1)) if match else 0)
        return peak / 1024

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return f"[==[{text}]==]"


POST_SCRIPT = """
local pool = {%(pool)s}
local run = %(run)s
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  local entry = pool[(counter %% #pool) + 1]
  local email = "bench-" .. run .. "-" .. tid .. "-" .. counter .. "%%40example.com"
  return wrk.format("POST", entry.path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = entry.cookie,
    ["Origin"] = %(origin)s,
    ["User-Agent"] = %(agent)s,
  }, entry.prefix .. email .. entry.suffix)
end
"""


def _wrk_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match.group(2)]
    return float(match.group(1)) * factor


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    *,
    script: str | None = None,
    folder: str,
) -> Result:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds:.0f}s",
        "--latency",
        "--timeout=30s",
        "-H",
        f"User-Agent: {BROWSER}",
        "-H",
        "Accept: text/html",
    ]
    if script is not None:
        path = Path(folder) / "post.lua"
        path.write_text(script)
        command += ["-s", str(path)]
    output = subprocess.run(  # noqa: S603 -- Debian's wrk, arguments from this file
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if requests is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    elapsed = _wrk_duration_ms(requests.group(2) + requests.group(3)) / 1000
    percentiles = dict(re.findall(r"^\s*(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    p50, p99 = (_wrk_duration_ms(percentiles.get(key, "")) for key in ("50", "99"))
    if p50 != p50 or p99 != p99:  # NaN: a figure wrk printed that is not parsed
        print(f"(unparsed wrk percentiles for {url}:)\n{output}", flush=True)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", output
    )
    return Result(
        requests=int(requests.group(1)),
        seconds=elapsed,
        p50_ms=p50,
        p99_ms=p99,
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(int(value) for value in sockets.groups()) if sockets else 0),
    )


def wrk_post_script(
    posts: list[tuple[PreparedPost, str]], run: str, origin: str
) -> str:
    """A wrk script posting the prepared forms in turn, each with a new address."""
    pool = ", ".join(
        f"{{path={_lua_string(post.action)}, prefix={_lua_string(post.prefix)}, "
        f"suffix={_lua_string(post.suffix)}, cookie={_lua_string(cookie)}}}"
        for post, cookie in posts
    )
    return POST_SCRIPT % {
        "pool": pool,
        "run": _lua_string(run),
        "origin": _lua_string(origin),
        "agent": _lua_string(BROWSER),
    }


# A request maker for the Python load generator: (thread, count) ->
# (method, path, body or None, headers).
MakeRequest = Callable[[int, int], tuple[str, str, str | None, dict[str, str]]]


def run_python(
    port: int, seconds: float, connections: int, make: MakeRequest
) -> Result:
    """The fallback load generator: ``connections`` threads, one request at a
    time each, for ``seconds``. Much slower than wrk on the client side."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(number: int) -> None:
        count = 0
        while time.perf_counter() < deadline:
            count += 1
            method, path, body, headers = make(number, count)
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                connection.close()
                failed = response.status >= 400
            except OSError:
                failed = True
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed * 1000)
                errors[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [float("nan")]
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        errors=errors[0],
    )
