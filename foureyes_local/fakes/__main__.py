"""`python -m foureyes_local.fakes [--seed S] [-n N]`: serve the three fake ATSes until interrupted."""

from __future__ import annotations

import argparse
import json
import time

from foureyes_local.fakes import start_fakes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-n", type=int, default=600)
    args = parser.parse_args()
    fakes = start_fakes(args.seed, args.n)
    print(json.dumps(fakes.credentials(), indent=2), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fakes.stop()


if __name__ == "__main__":
    main()
