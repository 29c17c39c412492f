"""`python -m foureyes_local`: serve the local cloud (the same as `foureyes local serve`)."""

import argparse

from foureyes_local.cloud import run
from foureyes_local.options import add_serve_arguments

parser = argparse.ArgumentParser(prog="python -m foureyes_local", description="serve the Foureyes local cloud")
add_serve_arguments(parser)
raise SystemExit(run(parser.parse_args()))
