"""Where the time goes when a target is missed: pyinstrument over one probe.

    python -m bench.profile startup DB         # process start to first section drawn
    python -m bench.profile keys DB            # the key scenarios, app side
    python -m bench.profile query NAME DB      # one query of bench.queries, repeated
    python -m bench.profile memory DB          # visiting F2-F6 (time, not memory)

Needs the bench extra: ``pip install -e ".[bench]"``. Prints pyinstrument's text
tree, trimmed to the frames that take at least ``--min-percent`` of the time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", choices=["startup", "keys", "query", "memory"])
    parser.add_argument("args", nargs="+", help="DB, or NAME DB for query")
    parser.add_argument("--min-percent", type=float, default=2.0)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--reps", type=int, default=30, help="query repetitions")
    options = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print('pyinstrument is missing: pip install -e ".[bench]"', file=sys.stderr)
        return 2
    # Started before anything of the app is imported: import time is part of start-up.
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    if options.what == "startup":
        from bench.startup import _ready_app

        asyncio.run(_ready_app(Path(options.args[0])))
    elif options.what == "keys":
        from bench.keys import _app_child

        asyncio.run(_app_child(Path(options.args[0]), 30))
    elif options.what == "memory":
        from bench.memory import _visit_all

        asyncio.run(_visit_all(Path(options.args[0])))
    else:
        from bench.queries import QUERIES, measure_one

        name, db_path = options.args
        from dispatch_tui.services.desk import Desk
        from dispatch_tui.store import Database

        db = Database(Path(db_path))
        result = measure_one(name, QUERIES[name], Desk(db, "bench"), options.reps, 30.0)
        db.dispose()
        print(result.summary(), file=sys.stderr)
    profiler.stop()
    print(
        profiler.output_text(
            unicode=True,
            color=False,
            show_all=options.all,
            processor_options={"filter_threshold": options.min_percent / 100},
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
