"""Run one fuzz case in a fresh process: the imgviz CLI (or a few lines of the Python API), then
write what happened (exit code, seconds, peak memory) as JSON to the file named first.

    python -m tests.fuzz._run RESULT.json -- ARGS...        imgviz ARGS...
    python -m tests.fuzz._run RESULT.json --python CODE     CODE, with ImgvizError printed the way the CLI does

Anything but an ImgvizError escaping is printed as a traceback and exits 99: the corpus counts
those as failures, so nothing here hides one.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback


def peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, which belongs to the memory image this
    process runs (ru_maxrss would carry over the forking parent's peak across exec on Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    result_path, mode, *rest = sys.argv[1:]
    start = time.monotonic()
    code = 0
    try:
        if mode == "--":
            from imgviz.cli import main as cli

            code = cli(rest)
        else:
            from imgviz.errors import ImgvizError

            try:
                exec(compile(rest[0], "<case>", "exec"), {"__name__": "__case__"})
            except ImgvizError as exc:
                print(f"imgviz: error: {exc}", file=sys.stderr)
                code = 1
    except SystemExit as exc:  # argparse: 2 for usage
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the corpus must see every traceback
        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_path, "w") as fh:
        json.dump({"code": code, "seconds": time.monotonic() - start, "maxrss_mb": peak_mb()}, fh)
    sys.exit(code)


if __name__ == "__main__":
    main()
