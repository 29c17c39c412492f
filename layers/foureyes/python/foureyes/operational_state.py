"""Operational state: the items operators own (kill switch, shadow mode, the people list, scheduling
configuration, connection secrets), created once by `foureyes ops init` and never by CloudFormation.

A template update re-applies every property CloudFormation holds, so a kill switch held there would be
silently unpaused by the next deploy, and credentials filled in by ops would be blanked. The template declares
these items by name and initial value (its `Foureyes::OperationalState` metadata); `initialise` creates each one
that does not exist yet and never overwrites one that does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from foureyes.errors import ConfigurationError

METADATA_KEY = "Foureyes::OperationalState"
Kind = Literal["parameter", "secret"]


@dataclass(frozen=True)
class Item:
    kind: Kind
    name: str
    initial: str
    description: str


def declared(template_metadata: Mapping[str, Any], stage: str) -> list[Item]:
    """The items a template declares, with `{stage}` in their names filled in."""
    spec = template_metadata.get(METADATA_KEY)
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"the template has no {METADATA_KEY} metadata: nothing to initialise")
    items: list[Item] = []
    sections: tuple[tuple[str, Kind], ...] = (("Parameters", "parameter"), ("Secrets", "secret"))
    for section, kind in sections:
        for entry in spec.get(section) or []:
            items.append(Item(kind, str(entry["Name"]).replace("{stage}", stage), str(entry["Initial"]),
                              str(entry.get("Description", ""))[:1024]))
    return items


def _exists(item: Item, ssm: Any, secrets: Any) -> bool:
    try:
        if item.kind == "parameter":
            ssm.get_parameter(Name=item.name)
        else:
            secrets.describe_secret(SecretId=item.name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ParameterNotFound", "ResourceNotFoundException"):
            return False
        raise
    return True


def _create(item: Item, ssm: Any, secrets: Any) -> bool:
    """Create the item; False when someone else created it meanwhile (never overwritten)."""
    try:
        if item.kind == "parameter":
            ssm.put_parameter(Name=item.name, Value=item.initial, Type="String", Description=item.description,
                              Overwrite=False)
        else:
            secrets.create_secret(Name=item.name, SecretString=item.initial, Description=item.description)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ParameterAlreadyExists", "ResourceExistsException"):
            return False
        raise
    return True


def initialise(items: Iterable[Item], ssm: Any, secrets: Any) -> list[tuple[Item, bool]]:
    """Create every item that does not exist; (item, created) for each, in order. Safe to run again."""
    return [(item, not _exists(item, ssm, secrets) and _create(item, ssm, secrets)) for item in items]


def missing(items: Iterable[Item], ssm: Any, secrets: Any) -> list[Item]:
    """Items not created yet (a stack deployed without `foureyes ops init`)."""
    return [item for item in items if not _exists(item, ssm, secrets)]
