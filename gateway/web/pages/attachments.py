"""An attachment from the case page: pictures re-encoded without EXIF/GPS (the same display
copy the API serves), access-logged before it is served."""

from __future__ import annotations

from aiohttp import web

from gateway import casework
from gateway.access_log import record_access
from gateway.attachments import AttachmentUnavailable, attachment_for_display
from gateway.permissions import CONTENT
from gateway.web.keys import RUNTIME
from gateway.web.pages.common import Page, int_field, page
from gateway.workqueue import Refused


@page(CONTENT)
async def attachment(p: Page) -> web.StreamResponse:
    rt = p.request.app[RUNTIME]
    attachment_id = int_field(p.request.match_info, "attachment_id")
    if attachment_id is None:
        raise Refused(404, "not_found", "No such attachment.")
    _a, case_ref = await casework.attachment_message(rt.db, p.staff, attachment_id)
    if case_ref != p.request.match_info["ref"]:
        raise Refused(404, "not_found", "No such attachment on this case.")
    try:
        filename, content_type, data = await attachment_for_display(
            rt.db, rt.keyring, attachment_id
        )
    except AttachmentUnavailable as exc:
        raise Refused(404, exc.code, exc.message) from exc
    await record_access(rt.db, p.staff, "attachment.read", f"attachment:{attachment_id}", case_ref)
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._- ") or "attachment"
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "Cache-Control": "no-store",
        },
    )
