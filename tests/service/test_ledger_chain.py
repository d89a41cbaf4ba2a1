"""The ledger's hash chain, called directly: transactions recorded before the chain existed
are chained once by the seed step, to the very hashes they would have had."""

from __future__ import annotations

import pytest

from gamification.ledger import chain
from gamification.ledger import services as ledger
from server import db
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio


async def test_unchained_transactions_are_chained_once_to_the_hashes_they_would_have(
        hearth: Hearth) -> None:
    member = (await register()).member_id
    assert member is not None
    ids = [(await ledger.post(key=f"chain-{n}", kind="award", reason="service test",
                              source=f"test:{n}", postings=[(ledger.member_account(member), n),
                                                            (ledger.ISSUANCE, -n)])).id
           for n in range(1, 6)]
    chained = await chain.verify()
    assert chained.ok and chained.head_transaction == ids[-1]

    # As a ledger from before the chain: the last three have no hash, the head is behind.
    await db.fetch("UPDATE ledger_transaction SET chain_hash = NULL WHERE id > {}", ids[1])
    await db.fetch("UPDATE ledger_chain SET last_transaction = {}, chain_hash = (SELECT "
                   "chain_hash FROM ledger_transaction WHERE id = {}) WHERE id = 1",
                   ids[1], ids[1])
    partial = await chain.verify()
    assert partial.ok and partial.checked == chained.checked - 3

    await chain.seal_unchained()
    await chain.seal_unchained()
    sealed = await chain.verify()
    assert sealed.ok and sealed.checked == chained.checked
    assert (sealed.head_transaction, sealed.head_hash) == (ids[-1], chained.head_hash)

    # And writing goes on from there.
    after = await ledger.post(key="chain-after", kind="award", reason="service test",
                              source="test:after", postings=[(ledger.member_account(member), 1),
                                                             (ledger.ISSUANCE, -1)])
    assert (await chain.verify()).head_transaction == after.id
