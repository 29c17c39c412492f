"""Faithful fake ATS servers on loopback (Bullhorn REST, Otys JSON-RPC, Carerix SOAP), seeded from the generator.

    fakes = start_fakes(seed=1, n=600)
    fakes.bullhorn.fail_next(429, count=3)      # switches and inspection are plain methods
    fakes.carerix.unavailable(times=2)
    fakes.otys.records()
    fakes.stop()

`python -m foureyes_local.fakes` serves them until interrupted and prints their URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from foureyes.model import Candidate
from foureyes_local.fakes.bullhorn import BullhornFake
from foureyes_local.fakes.carerix import CarerixFake
from foureyes_local.fakes.otys import OtysFake

__all__ = ["BullhornFake", "CarerixFake", "FakeSet", "OtysFake", "start_fakes"]


@dataclass
class FakeSet:
    bullhorn: BullhornFake
    otys: OtysFake
    carerix: CarerixFake
    seed: int
    candidates: list[Candidate]

    def urls(self) -> dict[str, str]:
        return {"bullhorn_auth": self.bullhorn.url, "bullhorn_login": self.bullhorn.url, "otys": self.otys.url,
                "carerix_wsdl": self.carerix.wsdl_url}

    def credentials(self) -> dict[str, dict[str, Any]]:
        """Constructor arguments of each client (URLs and credentials), tenant "local"."""
        b, o, c = self.bullhorn, self.otys, self.carerix
        return {
            "bullhorn": {"tenant": "local", "auth_url": b.url, "login_url": b.url, "client_id": b.client_id,
                         "client_secret": b.client_secret, "username": b.username, "password": b.password},
            "otys": {"tenant": o.tenant, "endpoint": o.url, "api_key": o.api_key},
            "carerix": {"tenant": "local", "wsdl_url": c.wsdl_url, "username": c.username, "password": c.password},
        }

    def stop(self) -> None:
        for fake in (self.bullhorn, self.otys, self.carerix):
            fake.stop()

    def __enter__(self) -> FakeSet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_fakes(seed: int = 1, n: int = 600, *, candidates: list[Candidate] | None = None,
                carerix_unbounded_seconds: float = 61.0, bullhorn_search_lag: float = 2.0) -> FakeSet:
    """Generate `n` candidates with `seed`, split them by system and serve each system's share."""
    if candidates is None:
        from foureyes_eval.generate import generate_candidates

        candidates = generate_candidates(n, seed)
    by_system: dict[str, list[Candidate]] = {"bullhorn": [], "otys": [], "carerix": []}
    for c in candidates:
        by_system[c.system].append(c)
    bullhorn = BullhornFake(by_system["bullhorn"], seed=seed, search_lag=bullhorn_search_lag).start()
    otys = OtysFake(by_system["otys"], seed=seed).start()
    carerix = CarerixFake(by_system["carerix"], seed=seed, unbounded_seconds=carerix_unbounded_seconds).start()
    return FakeSet(bullhorn, otys, carerix, seed, list(candidates))
