"""One command that measures what users feel and what the hardware allows.

    python -m bench                     # the full run (minutes); table to stdout, JSON to bench/results/
    python -m bench --quick             # seconds: tiny sizes, few repeats, no browser (what CI runs)

Each module measures one thing: `hardware` the matmul ceiling, `training` the trainer's tokens/s and
its share of that ceiling, `latency` the library calls behind the pages, `app` the app in a real
browser; `report` compares the numbers with the issue's targets. `bench.ptb` is separate: it trains
on Penn Treebank for quality, not speed.
"""
