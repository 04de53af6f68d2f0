"""Play Twilio locally: post a signed WhatsApp webhook to a running Rasa, for development.

The channel refuses unsigned calls, even locally; this signs them with TWILIO_AUTH_TOKEN exactly
as Twilio would (for TWILIO_WEBHOOK_URL when set, else the address posted to). Without Twilio
credentials the bot's replies appear in Rasa's log; with TWILIO_API_BASE_URL pointing at
`python tests/e2e/twilio_recorder.py` they are printed by the recorder.

    TWILIO_AUTH_TOKEN=dev python -m bot.channels.simulate "salam, bghit nakhod maw3id"
    python -m bot.channels.simulate --location 35.7595,-5.834
    python -m bot.channels.simulate --media audio/ogg
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

from twilio.request_validator import RequestValidator


def webhook_form(phone: str, body: str, *, profile_name: str = "", location: str | None = None,
                 media: str | None = None, button_payload: str | None = None) -> dict[str, str]:
    """The form fields Twilio posts for one WhatsApp message."""
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "MessageSid": sid,
            "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32),
            "From": f"whatsapp:{phone}", "To": os.environ.get("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886"),
            "WaId": phone.lstrip("+"), "ProfileName": profile_name, "Body": body, "NumMedia": "0",
            "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    if location:
        lat, lon = (part.strip() for part in location.split(","))
        form.update(Latitude=lat, Longitude=lon)
    if media:
        form.update(NumMedia="1", MediaContentType0=media, MediaUrl0="https://example.invalid/media/1")
    if button_payload:
        form.update(ButtonPayload=button_payload, ButtonText=body)
    return form


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("body", nargs="?", default="", help="the message text")
    parser.add_argument("--from", dest="phone", default="+212600000000", help="the sender, E.164")
    parser.add_argument("--name", default="Dev", help="WhatsApp profile name")
    parser.add_argument("--location", help="lat,lon of a shared location")
    parser.add_argument("--media", help="content type of an attached medium, e.g. audio/ogg")
    parser.add_argument("--button", help="payload of a tapped quick-reply button")
    rasa_port = os.environ.get("RASA_PORT", "5005")
    parser.add_argument("--url", default=f"http://127.0.0.1:{rasa_port}/webhooks/whatsapp/webhook")
    args = parser.parse_args(argv)

    token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not token:
        print("set TWILIO_AUTH_TOKEN (the same value Rasa runs with)", file=sys.stderr)
        return 2
    form = webhook_form(args.phone, args.body, profile_name=args.name, location=args.location, media=args.media,
                        button_payload=args.button)
    signed_url = os.environ.get("TWILIO_WEBHOOK_URL") or args.url
    request = urllib.request.Request(args.url, data=urllib.parse.urlencode(form).encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(signed_url, form),
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            print(answer.status, answer.read().decode())
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
