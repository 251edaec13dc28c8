"""What a journey costs the database: transactions and statements per JSON login and sign-up.

Counted with SQLAlchemy engine events on both databases; the numbers are pinned so a change
that adds a round trip shows up here (and is printed with ``-s``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from quart_authtuna.core import AuthService
from tests._support.queries import count_queries
from tests._support.web import ORIGIN

PASSWORD = "correct horse battery staple"


@dataclass
class Cost:
    transactions: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def cost_of(svc: AuthService) -> Iterator[Cost]:
    cost = Cost()

    def began(_conn: Any) -> None:
        cost.transactions += 1

    target = svc.engine.sync_engine
    event.listen(target, "begin", began)
    try:
        with count_queries(svc.engine) as log:
            yield cost
        cost.statements = log.data
    finally:
        event.remove(target, "begin", began)


async def stop_sender(svc: AuthService) -> None:
    """The outbox's sender delivers after commit, outside the request: not its cost."""
    assert svc.mail.queue is not None
    await svc.mail.queue.stop()


async def test_a_json_login_costs_three_transactions(client: Any, svc: AuthService,
                                                     make_user: Any, backend: str) -> None:
    """Read the account, reserve the attempt (committed before bcrypt, so parallel guesses
    cannot pass the limit), then one transaction for the session, audit and grants."""
    await make_user("costly")
    await stop_sender(svc)
    with cost_of(svc) as cost:
        response = await client.post("/auth/login", json={"username_or_email": "costly",
                                                          "password": PASSWORD},
                                     headers={"Origin": ORIGIN})
    assert response.status_code == 200, await response.get_data(as_text=True)
    print(f"\n{backend} JSON login: {cost.transactions} transactions, "
          f"{len(cost.statements)} statements")
    assert cost.transactions == 3
    assert len(cost.statements) <= 11  # with the sign-in notice's outbox row


async def test_a_sign_up_costs_three_transactions_whatever_the_address(
        client: Any, svc: AuthService, backend: str, make_user: Any) -> None:
    await make_user("holder", email="taken@example.com")
    costs = []
    await stop_sender(svc)
    for name, email in (("newcomer", "newcomer@example.com"), ("second", "taken@example.com")):
        with cost_of(svc) as cost:
            response = await client.post("/auth/signup", json={
                "username": name, "email": email, "password": PASSWORD},
                headers={"Origin": ORIGIN})
        await svc.mail.drain()
        assert response.status_code == 202, await response.get_data(as_text=True)
        print(f"\n{backend} JSON sign-up ({email}): {cost.transactions} transactions, "
              f"{len(cost.statements)} statements")
        costs.append(cost.transactions)
    # read both identifiers, count the mail, hold the sign-up (or audit the notice) with it
    assert costs == [3, 3]
