"""The consent decision (OIDC Core §3.1.2.4, RFC 6749 §4.1.2.1 `access_denied`).

The decision applies to the request stored with the interaction (SEC-39), for the account
that interaction goes on with; nothing in the form but the decision itself is read. An
approval is remembered per user and client, so the user is asked once for the same scopes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from authgate.core import consent as rules
from authgate.core.errors import InvalidRequestError
from authgate.core.models import Consent
from authgate.core.prompt import Step
from authgate.flows import interaction, sessions
from authgate.flows.authorize import proceed, response
from authgate.flows.context import Context
from authgate.flows.interaction import Outcome

APPROVE = "approve"
DENY = "deny"


async def decide(
    ctx: Context,
    interaction_id: str,
    secret: str | None,
    decision: str | None,
    *,
    cookie_secrets: Sequence[str],
    now: datetime,
) -> Outcome:
    """Record the user's answer on the consent page and continue (or end) the request."""
    if decision not in (APPROVE, DENY):
        raise InvalidRequestError("decision must be approve or deny")
    async with ctx.store.transaction() as tx:
        pending = await interaction.load(tx, interaction_id, secret, now=now)
        client = await interaction.find_client(tx, pending.request.client_id)
        signed = await sessions.signed_in(tx, cookie_secrets, now=now)
        step = await interaction.decide(
            tx, pending.request, client, signed, pending.progress, now=now
        )
        if step.step is not Step.CONSENT or step.account is None:
            raise InvalidRequestError("there is nothing to approve for this sign-in request")
        if decision == DENY:
            if not await tx.consume_interaction(pending.interaction_id, now=now):
                raise InvalidRequestError("this sign-in request was already completed")
            error = {"error": "access_denied", "error_description": "the user denied the request"}
            return Outcome(redirect=response(pending.request, ctx.issuer, error))
        sub = step.account.sub
        previous = await tx.find_consent(sub, client.client_id)
        await tx.save_consent(
            Consent(
                sub=sub,
                client_id=client.client_id,
                scope=rules.remember(previous.scope if previous else None, step.scope),
                created_at=previous.created_at if previous else now,
                updated_at=now,
            )
        )
        progress = dataclasses.replace(pending.progress, sid=step.account.sid, consented=True)
        pending = await interaction.save(tx, pending, progress, sub=sub, now=now)
        return await proceed(tx, ctx, pending, signed, now=now)
