"""The template as CloudFormation sees it: packaged (local paths -> S3 locations) and run through the SAM transform.

`sam deploy` uploads each CodeUri / ContentUri / DefinitionUri and CloudFormation then applies the
AWS::Serverless-2016-10-31 transform (aws-sam-translator, the library SAM itself uses). Linting
template.yaml before the transform misses what only the result shows (the API's deployment refers to
every function it invokes, so a function that refers to the API is a dependency loop). `make lint` lints
this result, and the local cloud deploys it, so both see exactly what AWS would.

Packaged locations are `s3://foureyes-package/<path relative to the project>`: the local cloud maps them
back to the folder with `local_path`.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from foureyes_local.cfn import load_template

PACKAGE_BUCKET = "foureyes-package"

# Where each serverless resource type keeps a local path that `sam package` uploads.
_ARTIFACTS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Api": "DefinitionUri",
}


def _s3_uri(path: str) -> str:
    return f"s3://{PACKAGE_BUCKET}/{path.strip('/').removeprefix('./')}"


def package(template: dict[str, Any]) -> dict[str, Any]:
    """Replace local artifact paths by S3 locations, as `sam package` does (nothing is uploaded)."""
    packaged = copy.deepcopy(template)
    function_globals = (packaged.get("Globals") or {}).get("Function") or {}
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = _s3_uri(function_globals["CodeUri"])
    for resource in packaged["Resources"].values():
        key = _ARTIFACTS.get(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        if key and isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = _s3_uri(props[key])
    return packaged


def transform(template: dict[str, Any], parameters: dict[str, str] | None = None,
              region: str = "eu-west-1") -> dict[str, Any]:
    """The packaged template after the SAM transform: plain CloudFormation (pseudo parameters of `region`)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    if "AWS::Serverless-2016-10-31" not in json.dumps(template.get("Transform", "")):
        return copy.deepcopy(template)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    result: dict[str, Any] = translator.translate(
        copy.deepcopy(package(template)), parameter_values=dict(parameters or {}),
        get_managed_policy_map=dict)
    return result


def local_path(location: Any, root: Path) -> Path:
    """The project folder a packaged location stands for (an S3 URI, or S3Bucket/S3Key or Bucket/Key)."""
    if isinstance(location, str):
        uri = location
    elif isinstance(location, dict):
        bucket = location.get("S3Bucket") or location.get("Bucket")
        key = location.get("S3Key") or location.get("Key")
        uri = f"s3://{bucket}/{key}"
    else:
        raise ValueError(f"not a packaged location: {location!r}")
    prefix = f"s3://{PACKAGE_BUCKET}/"
    if not uri.startswith(prefix):
        raise ValueError(f"{uri} is not a location this project packaged")
    return root / uri[len(prefix):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument("--out", type=Path, required=True, help="where to write the transformed template (JSON)")
    args = parser.parse_args(argv)
    try:
        result = transform(load_template(args.template))
    except Exception as exc:  # the translator's own errors name the resource and property
        print(f"SAM transform of {args.template} failed: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{args.template} -> {args.out}: {len(result['Resources'])} CloudFormation resources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
