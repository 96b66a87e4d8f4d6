"""Every reply the gateway's SMTP/LMTP servers give, named once (like aiosmtpd's testing/statuscodes)."""

from __future__ import annotations

GREETING_PREFIX = b"barnevern.example.no Case Gateway"
MAIL_OK = (250, b"2.1.0 Sender OK")
RCPT_OK = (250, b"2.1.5 Recipient OK")
RCPT_UNKNOWN = (550, b"5.1.1 No such recipient here")
DATA_GO_AHEAD = (354, b"End data with <CR><LF>.<CR><LF>")
ACCEPTED = (250, b"2.0.0 Message accepted for delivery")
STORE_FAILED = (451, b"4.3.0 Temporary failure storing the message; try again later")
TOO_BIG = (552, b"5.3.4 Message too big for this service")
RATE_LIMITED = (451, b"4.7.1 Too many messages from this sender; try again later")
STARTTLS_REQUIRED = (530, b"5.7.0 Must issue a STARTTLS command first")
STARTTLS_READY = (220, b"Ready to start TLS")
NO_VALID_RECIPIENTS = (503, b"Error: need RCPT command")
BAD_SEQUENCE_RCPT = (503, b"Error: need MAIL command")
BYE = (221, b"Bye")
