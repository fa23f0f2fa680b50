"""Checks captured mock exchanges against what a platform publishes.

Usage: validate.py PLATFORM EXCHANGES.jsonl
       validate.py --null-optional PLATFORM EXCHANGES.jsonl OUT.jsonl [Object.field …]

The second form writes the exchanges with every response field the platform's SDK marks
optional set to null (platforms whose module has `null_optional`), for the tests that replay
them to a connector; fields named after OUT (e.g. Refund.charge) keep their values.

PLATFORM is one of google_ads, meta, stripe, shopify, dub, tiktok, rewardful. The file holds
one exchange per line, as tests/support/mock/contract.rs writes them. Every violation is
printed as one line "PLATFORM: Object.field: what the schema says  [where it was seen]".
Exit status: 0 when nothing was found, 1 when something was, 2 when the validator could not run.
"""

import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lookback_contract.report import Report  # noqa: E402

PLATFORMS = ("google_ads", "meta", "stripe", "shopify", "dub", "tiktok", "rewardful")


def main(argv):
    if len(argv) >= 5 and argv[1] == "--null-optional":
        module = __import__(f"lookback_contract.{argv[2]}", fromlist=["null_optional"])
        exchanges = [json.loads(line) for line in Path(argv[3]).read_text().splitlines() if line.strip()]
        Path(argv[4]).write_text("".join(json.dumps(e) + "\n" for e in module.null_optional(exchanges, keep=tuple(argv[5:]))))
        return 0
    if len(argv) != 3 or argv[1] not in PLATFORMS:
        print(__doc__, file=sys.stderr)
        return 2
    platform, path = argv[1], Path(argv[2])
    exchanges = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not exchanges:
        print(f"{platform}: no exchanges in {path}: the sync under test sent nothing", file=sys.stderr)
        return 2
    report = Report(platform)
    module = __import__(f"lookback_contract.{platform}", fromlist=["check"])
    module.check(exchanges, report)
    report.print()
    return 1 if report.violations else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception:  # noqa: BLE001 - a broken validator is exit 2, never a pass
        traceback.print_exc()
        sys.exit(2)
