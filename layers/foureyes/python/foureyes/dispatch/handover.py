"""Handing a proposal to its system's dispatcher function (an asynchronous Lambda invoke): how facts and
the nightly retry reach the one guarded write path."""

from __future__ import annotations

import json
from typing import Any, Protocol

from foureyes.settings import settings


class HandOver(Protocol):
    def __call__(self, system: str, proposal_id: str) -> bool:
        """Queue `proposal_id` for `system`'s dispatcher; False when the system has no dispatcher."""
        ...


class DispatcherFunctions:
    """The template's dispatcher functions (`DISPATCH_FUNCTIONS`), invoked with `InvocationType=Event`."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def __call__(self, system: str, proposal_id: str) -> bool:
        function = settings().dispatch_functions.get(system)
        if function is None:
            return False
        if self._client is None:
            import boto3

            self._client = boto3.client("lambda")
        self._client.invoke(FunctionName=function, InvocationType="Event",
                            Payload=json.dumps({"proposal_id": proposal_id}).encode())
        return True
