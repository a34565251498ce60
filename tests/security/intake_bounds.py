"""File intake files one after another in this process and report, for each, the outcome and
the memory it took (Python's peak allocation while reading it), then the process's peak
resident size: `python -m tests.security.intake_bounds FILE...` prints one JSON line per file.

Run by tests/security/test_intake_hostile.py in a process of its own, so that the resident
size is the intake's and not the test runner's.
"""

import json
import resource
import sys
import tracemalloc
from pathlib import Path


def main(paths: list[str]) -> None:
    """Read each file through the real intake; print what happened and what it cost."""
    from tasks.intake import intake_file

    tracemalloc.start()
    for name in paths:
        tracemalloc.reset_peak()
        result = intake_file(Path(name))
        peak = tracemalloc.get_traced_memory()[1]
        print(json.dumps({"file": Path(name).name, "ok": result.ok, "peak_mb": round(peak / 2**20, 1),
                          "fields": sorted({e.field for e in result.errors}),
                          "worded": all(e.zh and e.en for e in result.errors)},
                         ensure_ascii=False), flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"max_rss_mb": round(rss_mb, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
