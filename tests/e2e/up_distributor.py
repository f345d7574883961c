#!/usr/bin/python3
"""up_distributor.py: an independent UnifiedPush distributor for the end-to-end tests, written
on slixmpp (Debian's python3-slixmpp) from the protocol's published description
(http://gultsch.de/xmpp/drafts/unified-push), not on libxpush.

It logs in, and on every session start behaves as Conversations does on bind: a directed
presence to the push server, then a <register/> of its (application, instance). Each line it
prints is one event, flushed:
  registered endpoint=URL expiration=TIME
  register-error condition=COND
  push id=IQID application=B64 instance=B64 t=UNIX_MS body=B64
  unregistered / unregister-error condition=COND
--answer item-not-found makes it refuse pushes (an uninstalled app); --unregister sends an
<unregister/> after registering and exits."""
import argparse
import asyncio
import sys
import time
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = "http://gultsch.de/xmpp/drafts/unified-push"


def out(line):
    print(line, flush=True)


class Distributor(slixmpp.ClientXMPP):
    def __init__(self, a, password):
        super().__init__(a.jid + "/" + a.resource, password)
        self.a = a
        self.ca_certs = a.ca_file
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("disconnected", lambda _e: self.loop.stop())
        self.register_handler(
            Callback("up push", MatchXPath("{jabber:client}iq/{%s}push" % NS), self.on_push))

    async def request(self, name):
        iq = self.make_iq_set(ito=self.a.component)
        attrs = {"application": self.a.application, "instance": self.a.instance}
        if name == "register" and self.a.vapid:
            attrs["vapid"] = self.a.vapid  # an xpush extension: the app server's key
        iq.append(ET.Element("{%s}%s" % (NS, name), attrs))
        try:
            return await iq.send(timeout=15)
        except IqError as e:
            out("%s-error condition=%s" % (name, e.iq["error"]["condition"]))
        except IqTimeout:
            out("%s-error condition=timeout" % name)
        return None

    async def on_start(self, _event):
        self.send_presence(pto=self.a.component)
        r = await self.request("register")
        if r is not None:
            reg = r.xml.find("{%s}registered" % NS)
            out("registered endpoint=%s expiration=%s" % (reg.get("endpoint"), reg.get("expiration")))
        if self.a.unregister:
            if await self.request("unregister") is not None:
                out("unregistered")
            self.disconnect()

    def on_push(self, iq):
        p = iq.xml.find("{%s}push" % NS)
        out("push id=%s application=%s instance=%s t=%d body=%s" % (
            iq["id"], p.get("application"), p.get("instance"), time.time() * 1000,
            (p.text or "").strip()))
        r = iq.reply()
        if self.a.answer != "result":
            r["type"] = "error"
            r["error"]["type"] = "cancel"
            r["error"]["condition"] = self.a.answer
        r.send()


def main():
    ap = argparse.ArgumentParser()
    for k in ("jid", "password-file", "ca-file", "component", "resource", "application",
              "instance"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--answer", default="result")
    ap.add_argument("--unregister", action="store_true")
    ap.add_argument("--vapid", default="")
    a = ap.parse_args()
    with open(a.password_file, encoding="utf-8") as f:
        d = Distributor(a, f.read().strip())
    d.connect((a.host, a.port))
    d.loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
