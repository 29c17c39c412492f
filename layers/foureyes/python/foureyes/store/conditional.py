"""One idiom for DynamoDB's conditional writes: did my write win, or did its condition fail?"""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import PynamoDBException

CONDITION_FAILED = "ConditionalCheckFailedException"


def conditional(write: Callable[[], object]) -> bool:
    """Run one conditional write (`save`, `update` or `delete` with a `condition=`).

    True when it was applied; False when its condition did not hold (another writer won, or the state
    no longer allows it). Any other failure is raised as it is.
    """
    try:
        write()
    except PynamoDBException as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True
