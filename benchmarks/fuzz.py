"""Fuzz nswn's inputs: random scenario and design files, and malformed requests to a local service.

Scenario and design inputs (wrong types, extremes, NaN/inf, deep nesting, unicode, YAML
anchors, aliases and tags, very long strings, large files) go through the same loaders as
``nswn run`` and ``nswn sweep`` (:func:`nswn.scenario.io.load`, :func:`nswn.experiments.design.load_design`)
in this process, each under a time limit. Malformed API requests go to a ``nswn serve`` started
here on 127.0.0.1 only (a free port), over plain HTTP. Every input is seeded, so a run is
reproducible.

Counts printed: clean rejections (a ``ScenarioError`` / a 4xx), acceptances, tracebacks (any
other exception), hangs (over the time limit), 5xx and dropped connections, and the server's
resident memory before and after.

    python benchmarks/fuzz.py --quick          # 600 file inputs, 200 requests (about a minute)
    python benchmarks/fuzz.py                  # 10 000 file inputs, 2 000 requests
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

HANG_SECONDS = 10


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small run (600 inputs, 200 requests)")
    parser.add_argument("--inputs", type=int, default=None, help="scenario and design inputs (default 10 000)")
    parser.add_argument("--requests", type=int, default=None, help="malformed API requests (default 2 000)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-serve", action="store_true", help="skip the service")
    args = parser.parse_args()
    args.inputs = args.inputs or (600 if args.quick else 10_000)
    args.requests = args.requests if args.requests is not None else (200 if args.quick else 2_000)
    return args


# --------------------------------------------------------------------------------------------
# generators

PATHS = [
    "firms",
    "institutions",
    "years",
    "name",
    "base",
    "levers.central_budget.share_of_gdp",
    "levers.priorities.mode",
    "levers.instruments.basic_research.share",
    "levers.export_controls.batches",
    "assumptions.innovation.emulation_rate",
    "assumptions.research.publications_per_output",
    "assumptions.macro",
]
WEIRD_STRINGS = [
    "",
    " 5 ",
    "true",
    "1e400",
    "-0",
    "NaN",
    "政策",
    "\u202e\u0000x",
    "[bold]x[/]",
    "[red",
    "x" * 300,
    "y" * 100_000,
    "../../etc/passwd",
    "/dev/zero",
    "baseline",
    "💥" * 50,
]


def weird_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(14)
    if kind == 0:
        return rng.choice([True, False, None])
    if kind == 1:
        return rng.choice([0, -1, 1, 99, 100, 10**7, 10**30, -(10**30), 2**63])
    if kind == 2:
        return rng.choice([0.0, -0.0, 1e-300, 1e300, float("nan"), float("inf"), -float("inf"), 0.5])
    if kind == 3:
        return rng.choice(WEIRD_STRINGS)
    if kind in (4, 5) and depth < 4:
        return [weird_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind in (6, 7) and depth < 4:
        return {rng.choice(PATHS).split(".")[-1]: weird_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 8:
        return rng.uniform(-10, 10)
    if kind == 9:
        return rng.randrange(-5, 30_000)
    return rng.choice(["broad", "shortlist", "adaptive", 2030, 0.01, [2024, 2030]])


def yaml_text(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def scenario_text(rng: random.Random) -> str:
    """One random scenario file: structured mutations most of the time, raw YAML tricks otherwise."""
    kind = rng.randrange(12)
    if kind == 0:  # deep nesting
        depth = rng.choice([10, 31, 33, 100, 492, 5000, 50_000])
        return "firms: " + "[" * depth + "]" * depth + "\n"
    if kind == 1:  # alias expansion ("billion laughs")
        levels = rng.randrange(2, 10)
        lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, levels):
            prev, name = chr(96 + i), chr(97 + i)
            lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        return "\n".join(lines) + f"\nfirms: *{chr(96 + levels)}\n"
    if kind == 2:  # tags: Python objects must never be built
        return rng.choice(
            [
                "firms: !!python/object/apply:os.system ['true']\n",
                "firms: !!binary aGVsbG8=\n",
                "firms: !!set {1, 2}\n",
                "firms: !custom 5\n",
                "years: !!timestamp 2024-01-01\n",
            ]
        )
    if kind == 3:  # duplicates and merge keys
        return rng.choice(
            ["firms: 1000\nfirms: 2000\n", "base: &b {firms: 500}\n<<: *b\n", "years: {start: 2024, start: 2025}\n"]
        )
    if kind == 4:  # broken YAML and binary
        return rng.choice(
            ["firms: [\n", "\t- x", ": : :", "{{{", "%YAML 9.9\n---\nx", "a: 'unterminated"]
        ) + rng.choice(["", "\x00", "\x85"])
    if kind == 5:  # big files
        size = rng.choice([10_000, 500_000, 1_200_000])
        return "description: '" + "x" * size + "'\n"
    if kind == 6:  # long names and base paths
        return f"base: {rng.choice(WEIRD_STRINGS[10:14])}\n"
    from nswn.experiments.design import set_path

    data: dict[str, Any] = {}
    for _ in range(rng.randrange(1, 5)):
        set_path(data, rng.choice(PATHS), weird_value(rng))
    try:
        return yaml_text(data)
    except Exception:  # noqa: BLE001 - un-dumpable values become their repr
        return f"firms: {data!r}\n"


def design_text(rng: random.Random) -> str:
    """One random design file."""
    samplers = ["full_factorial", "latin_hypercube", "morris", "sobol", "grid", None, 3]
    block: dict[str, Any] = {"sampler": rng.choice(samplers)}
    if rng.random() < 0.8:
        block["samples"] = rng.choice([1, 2, 4, 16, 1024, 0, -1, 3.5, "8", True, 10**9])
    if rng.random() < 0.3:
        block["second_order"] = rng.choice([True, False, "yes", 1])
    params: dict[str, Any] = {}
    for _ in range(rng.randrange(0, 5)):
        path = rng.choice(
            [
                "assumptions.innovation.emulation_rate",
                "assumptions.research.publications_per_output",
                "levers.priorities.mode",
                "levers.central_budget.share_of_gdp",
                "assumptions.nothing",
                "firms",
            ]
        )
        params[path] = rng.choice(
            [
                {"range": [rng.uniform(-1, 1), rng.uniform(-1, 2)]},
                {"range": [float("nan"), 0.2]},
                {"values": [weird_value(rng) for _ in range(rng.randrange(4))]},
                {"levels": rng.choice([2, 3, 1001, -1])},
                weird_value(rng),
            ]
        )
    block["parameters"] = params
    data: dict[str, Any] = {
        "name": rng.choice(["d", "[x]", "政策", "", "z" * 200]),
        "scenarios": rng.choice([["baseline"], "baseline", [], ["nope"], ["baseline", "baseline"], [None]]),
        "seeds": rng.choice([1, 2, 0, -3, [1, 2], [1, 1], "3", True, 10**6]),
        "firms": rng.choice([100, 200, 50, True, "200"]),
        "years": rng.choice([{"end": 2026}, {"end": 2024}, {"start": 2030}, "2030", {"end": 2026.5}]),
        rng.choice(["uncertainties", "levers"]): block,
    }
    if rng.random() < 0.1:
        data["unknown_key"] = 1
    try:
        return yaml_text(data)
    except Exception:  # noqa: BLE001
        return "scenarios: [baseline]\nseeds: 1\n"


# --------------------------------------------------------------------------------------------
# file inputs


class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def fuzz_files(count: int, seed: int) -> tuple[Counter[str], list[str]]:
    from nswn.experiments.design import load_design
    from nswn.scenario import io

    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    examples: list[str] = []
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            is_design = i % 4 == 3
            text = design_text(rng) if is_design else scenario_text(rng)
            path = Path(tmp) / f"input{i % 7}.yaml"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            signal.alarm(HANG_SECONDS)
            try:
                if is_design:
                    load_design(path)
                else:
                    io.load(path)
                counts["accepted"] += 1
            except Hang:
                counts["hangs"] += 1
                examples.append(f"hang: {text[:120]!r}")
            except io.ScenarioError as exc:
                counts["rejected cleanly"] += 1
                if len(str(exc)) > 20_000:
                    counts["oversized messages"] += 1
            except Exception:  # noqa: BLE001 - what the fuzz run counts
                counts["tracebacks"] += 1
                examples.append(f"traceback: {text[:120]!r}\n{traceback.format_exc(limit=3)}")
            finally:
                signal.alarm(0)
    return counts, examples


# --------------------------------------------------------------------------------------------
# API requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def api_request(rng: random.Random) -> tuple[str, str, bytes, dict[str, str]]:
    """One malformed (now and then valid) request: method, path, body, headers."""
    headers = {"content-type": "application/json"}
    path = rng.choice(["/api/simulate", "/api/scenario.yaml", "/api/simulate", "/api/health", "/api/nothing", "/"])
    method = "POST" if path.startswith("/api/s") else rng.choice(["GET", "POST", "DELETE"])
    kind = rng.randrange(10)
    if kind == 0:
        body = rng.choice([b"", b"{", b"null", b"[]", b"\xff\xfe", b'{"base": 1}', b"x" * 300_000])
    elif kind == 1:
        body = json.dumps({"base": "baseline", "overrides": {rng.choice(PATHS): "\ud800"}}).encode()
    elif kind == 2:
        body = b'{"base": "baseline", "name": "\\ud800\\u4e2d", "overrides": {"levers.priorities.mode": "\\udfff"}}'
    elif kind == 3:
        headers["content-length"] = rng.choice(["-1", "abc", "99999999999"])
        body = b"{}"
    elif kind == 4:
        headers["content-type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", "\u00e9"])
        body = b'{"base": "baseline"}'
    elif kind == 5:
        depth = rng.choice([10, 100, 1000, 3000, 100_000])
        body = b'{"base": "baseline", "overrides": {"firms": ' + b"[" * depth + b"1" + b"]" * depth + b"}}"
    else:
        request: dict[str, Any] = {"base": rng.choice(["baseline", "nope", "", None, 3, "../x"])}
        if rng.random() < 0.8:
            request["overrides"] = {rng.choice(PATHS): weird_value(rng) for _ in range(rng.randrange(1, 4))}
        for key in ("firms", "seed", "start_year", "end_year", "technology_columns", "name"):
            if rng.random() < 0.2:
                request[key] = weird_value(rng)
        try:
            body = json.dumps(request).encode()
        except (TypeError, ValueError):
            body = repr(request).encode("utf-8", "surrogatepass")
    return method, path, body, headers


def fuzz_api(count: int, seed: int) -> tuple[Counter[str], list[str], tuple[float, float]]:
    rng = random.Random(seed + 1)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nswn",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--firms",
            "300",
            "--processes",
            "0",
            "--run-seconds",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    counts: Counter[str] = Counter()
    examples: list[str] = []
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        before = rss_mb(server.pid)
        for _ in range(count):
            method, path, body, headers = api_request(rng)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.putrequest(method, path, skip_accept_encoding=True)
                for key, value in headers.items():
                    connection.putheader(key, value.encode("latin-1", "replace"))
                if "content-length" not in headers:
                    connection.putheader("content-length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                response.read()
                status = response.status
                if status >= 500:
                    counts["5xx"] += 1
                    examples.append(f"{status} {method} {path} {body[:120]!r}")
                elif status >= 400:
                    counts["rejected cleanly"] += 1
                else:
                    counts["accepted"] += 1
            except TimeoutError:
                counts["hangs"] += 1
                examples.append(f"hang {method} {path} {body[:120]!r}")
            except (ConnectionError, http.client.HTTPException) as exc:
                counts["dropped connections"] += 1
                examples.append(f"{type(exc).__name__} {method} {path} {body[:120]!r}")
            finally:
                connection.close()
        after = rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    if b"Traceback" in err:
        counts["server tracebacks"] += err.count(b"Traceback")
        examples.append(err.decode("utf-8", "replace")[-2000:])
    return counts, examples, (before, after)


def main() -> int:
    args = parse()
    started = time.perf_counter()
    files, file_examples = fuzz_files(args.inputs, args.seed)
    file_seconds = time.perf_counter() - started
    print(f"scenario and design inputs: {args.inputs} in {file_seconds:.0f} s")
    for key in ("rejected cleanly", "accepted", "tracebacks", "hangs", "oversized messages"):
        print(f"  {key:20s} {files.get(key, 0)}")
    for example in file_examples[:5]:
        print("   ", example)
    bad = files.get("tracebacks", 0) + files.get("hangs", 0)
    if not args.no_serve and args.requests:
        started = time.perf_counter()
        api, api_examples, (before, after) = fuzz_api(args.requests, args.seed)
        print(f"API requests: {args.requests} in {time.perf_counter() - started:.0f} s (nswn serve on 127.0.0.1)")
        for key in ("rejected cleanly", "accepted", "5xx", "hangs", "dropped connections", "server tracebacks"):
            print(f"  {key:20s} {api.get(key, 0)}")
        print(f"  server memory       {before:.0f} MB before, {after:.0f} MB after")
        for example in api_examples[:5]:
            print("   ", example)
        bad += sum(api.get(k, 0) for k in ("5xx", "hangs", "dropped connections", "server tracebacks"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
