"""Dub: runs dub.mjs, which checks GET /events exchanges against the zod schemas of the official
`dub` npm package (see that file), and reports its findings."""

import json
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def check(exchanges, report):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for exchange in exchanges:
            handle.write(json.dumps(exchange) + "\n")
        path = Path(handle.name)
    try:
        run = subprocess.run(["node", str(HERE / "dub.mjs"), str(path)], cwd=HERE, capture_output=True, text=True, check=False)
    finally:
        path.unlink()
    if run.returncode != 0:
        raise RuntimeError(f"dub.mjs failed ({run.returncode}):\n{run.stderr}")
    for line in run.stdout.splitlines():
        finding = json.loads(line)
        index = finding["index"]
        report.add(finding["obj"], finding["field"], finding["message"], exchanges[index], index)
