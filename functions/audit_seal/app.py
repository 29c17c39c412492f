"""Every AuditSealMinutes (and on `foureyes ops audit-seal`): a signed digest of every audit chain's head into
the locked bucket (audit/seal.py). `{"discover": true}` also seals chains found only by scanning the table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.audit.seal import seal_stack

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = seal_stack(datetime.now(UTC), discover=bool((event or {}).get("discover")))
    digest = result.digest
    if result.held:  # tampering the seal refused to seal over: loud, for the alarm and for audit-verify
        logger.error("audit chains held at their sealed head", extra={"held": result.held, "digest": digest.seq})
    logger.info("audit sealed", extra={"digest": digest.seq, "chains": len(digest.chains), "rows": digest.rows(),
                                       "lost_races": result.lost_races})
    return {"digest": digest.seq, "chains": len(digest.chains), "rows": digest.rows(), "held": result.held,
            "sealed_at": digest.sealed_at}
