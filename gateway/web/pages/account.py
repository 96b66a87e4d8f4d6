"""My account: who I am signed in as, and an API token for my own use.

A token for a content role is made only by the person themselves (an admin minting one could
read as them), so this is where a caseworker or team lead gets theirs; the rule lives in
``gateway.accounts.create_token`` and is the same for the API and the host CLI.
"""

from __future__ import annotations

from aiohttp import web

from gateway import staff_admin
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, page


@page()
async def account_page(p: Page) -> web.StreamResponse:
    return p.render("account.html", {"new_token": ""})


@page()
async def create_own_token(p: Page) -> web.StreamResponse:
    token, _expires = await staff_admin.mint_token(
        p.request.app[RUNTIME].db, p.staff, p.staff.id, label="my account page"
    )
    # Shown once: pages are never cached, and only its hash is stored.
    return p.render("account.html", {"new_token": token})
