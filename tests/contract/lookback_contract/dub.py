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


def null_optional(exchanges, keep=()):
    """The exchanges with every optional field of every event removed and every nullable one
    null (dub.mjs --null-optional, from the SDK's zod schemas)."""
    if keep:
        raise ValueError("the Dub variant keeps no fields")
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        source.write_text("".join(json.dumps(e) + "\n" for e in exchanges))
        run = subprocess.run(["node", str(HERE / "dub.mjs"), "--null-optional", str(source), str(target)], cwd=HERE, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"dub.mjs --null-optional failed ({run.returncode}):\n{run.stderr}")
        return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]
