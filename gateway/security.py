"""What `check-config` says about the configuration's security posture (warnings, not errors)."""

from __future__ import annotations

from gateway.settings import Settings


def security_warnings(settings: Settings) -> list[str]:
    """One ``warning: …`` line per setting that leaves a door open, with what to do."""
    out: list[str] = []
    if settings.smtp.enabled or settings.lmtp.enabled:
        if not settings.email.trusted_authserv_id:
            out.append(
                "warning: email.trusted_authserv_id is empty: nobody checks DMARC, so mail is "
                "never attached to a case by its sender address alone (it goes to triage, "
                "'sender not verified'); set it to the authserv-id your MTA writes in "
                "Authentication-Results"
            )
        if settings.smtp.enabled and settings.smtp.host not in ("127.0.0.1", "::1", "localhost"):
            out.append(
                f"warning: smtp.host is {settings.smtp.host}: mail that reaches the gateway "
                "without passing your MTA carries no trusted Authentication-Results; listen "
                "on loopback behind the MTA"
            )
    if settings.twilio.auth_token and not settings.web.public_url.startswith("https://"):
        out.append(
            "warning: web.public_url is not https: Twilio's requests and their signatures "
            "travel unencrypted"
        )
    return out
