#!/usr/bin/env python3
"""tests/e2e/xmpp.py: a tiny scripted XMPP client for hostile-input tests (not a device).

Logs in over STARTTLS (certificate verified against --ca-file) with SASL PLAIN, binds a
resource, sends each --send stanza in order, then reads until a stanza with id --await-id
(a comma-separated list: until one with each id)
arrives (or --timeout seconds pass). Every stanza received after binding is printed on stdout,
one per line, re-serialised. Exit 0 when the awaited stanza came, 1 on timeout or error.

  xmpp.py --jid mallory@xpush.test --password-file F --port 5222 --ca-file ca.pem \
          --send "<iq type='get' id='p1' to='push.xpush.test'><ping xmlns='urn:xmpp:ping'/></iq>" \
          --await-id p1

As an independent device (not libxpush): --ack answers every xpush notification with its IQ
result (after --drop-first N notifications, which it reads and does not answer: a lost ack),
--answer-pings answers XEP-0199 pings (--ping-error: with service-unavailable, as a client
without XEP-0199), --ack-delay S acks each notification S seconds after it arrived (a slow
device). With --await-id never it runs until --timeout, SIGTERM
or the server closing the stream. SIGSTOP freezes it: it stops reading without a FIN, as a phone
that lost its radio.
"""
import argparse
import base64
import socket
import ssl
import sys
import time
import xml.etree.ElementTree as ET
from xml.sax import saxutils
from xml.parsers import expat


class Stream:
    """Reads a stream and yields its depth-1 elements as ElementTree elements."""

    def __init__(self, sock):
        self.sock = sock
        self.queue = []
        self.reset()

    def reset(self):
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.depth = 0
        self.stack = []

    @staticmethod
    def _qname(name):
        return "{" + name if "}" in name else name

    def _start(self, name, attrs):
        self.depth += 1
        if self.depth == 1:
            return
        e = ET.Element(self._qname(name), {self._qname(k): v for k, v in attrs.items()})
        if self.stack:
            self.stack[-1].append(e)
        self.stack.append(e)

    def _end(self, _name):
        self.depth -= 1
        if self.depth == 0:
            return
        e = self.stack.pop()
        if not self.stack:
            self.queue.append(e)

    def _text(self, data):
        if not self.stack:
            return
        e = self.stack[-1]
        if len(e):
            e[-1].tail = (e[-1].tail or "") + data
        else:
            e.text = (e.text or "") + data

    def next(self, deadline):
        while not self.queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("server closed the connection")
            self.parser.Parse(data, False)
        return self.queue.pop(0)

    def send(self, text):
        self.sock.sendall(text.encode("utf-8"))


def local(tag):
    return tag.rsplit("}", 1)[-1]


NOTIFIED = [0]
DUE = []  # (monotonic time, stanza) to send later: delayed acks


def answer(st, e, o):
    """The device's side of the protocol: acks and ping replies (IQ results to the sender)."""
    if local(e.tag) != "iq" or e.get("type") not in ("get", "set") or not e.get("id"):
        return
    child = e[0] if len(e) else None
    if child is None:
        return
    reply = "<iq type='result' id='%s' to='%s'/>" % (escape(e.get("id")), escape(e.get("from", "")))
    if o.ack and child.tag == "{urn:xpush:0}notification":
        NOTIFIED[0] += 1
        if NOTIFIED[0] > o.drop_first:
            if o.ack_delay > 0:
                DUE.append((time.monotonic() + o.ack_delay, reply))
            else:
                st.send(reply)
    elif o.ack and child.tag == "{urn:xpush:0}retract":
        st.send(reply)
    elif o.ping_error and child.tag == "{urn:xmpp:ping}ping":
        st.send("<iq type='error' id='%s' to='%s'><error type='cancel'><service-unavailable "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                % (escape(e.get("id")), escape(e.get("from", ""))))
    elif o.answer_pings and child.tag == "{urn:xmpp:ping}ping":
        st.send(reply)


def escape(v):
    """v for a single-quoted XML attribute."""
    return saxutils.escape(v, {"'": "&apos;"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--resource", default="script")
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("--await-id", required=True)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--ack", action="store_true", help="ack xpush notifications")
    ap.add_argument("--drop-first", type=int, default=0,
                    help="leave the first N notifications received unacked")
    ap.add_argument("--answer-pings", action="store_true", help="answer XEP-0199 pings")
    ap.add_argument("--ping-error", action="store_true",
                    help="answer pings with service-unavailable (no XEP-0199)")
    ap.add_argument("--ack-delay", type=float, default=0.0,
                    help="seconds between a notification and its ack")
    o = ap.parse_args()

    user, domain = o.jid.split("@", 1)
    with open(o.password_file, encoding="utf-8") as f:
        password = f.read()
    deadline = time.monotonic() + o.timeout
    header = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % domain)

    sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
    st = Stream(sock)
    st.send(header)
    st.next(deadline)  # features
    st.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    if local(st.next(deadline).tag) != "proceed":
        sys.exit("xmpp.py: server refused STARTTLS")
    ctx = ssl.create_default_context(cafile=o.ca_file)
    st.sock = ctx.wrap_socket(sock, server_hostname=domain)
    st.reset()
    st.send(header)
    st.next(deadline)
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    st.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % token)
    if local(st.next(deadline).tag) != "success":
        sys.exit("xmpp.py: authentication failed")
    st.reset()
    st.send(header)
    st.next(deadline)
    st.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<resource>%s</resource></bind></iq>" % o.resource)
    reply = st.next(deadline)
    if reply.get("type") != "result":
        sys.exit("xmpp.py: resource binding failed")
    for stanza in o.send:
        st.send(stanza)
    pending = set(o.await_id.split(","))  # every one of them
    try:
        while True:
            while DUE and DUE[0][0] <= time.monotonic():
                st.send(DUE.pop(0)[1])
            try:
                e = st.next(min([deadline] + [d for d, _ in DUE[:1]]))
            except TimeoutError:
                if DUE and time.monotonic() < deadline:
                    continue
                raise
            print(ET.tostring(e, encoding="unicode").replace("\n", "&#10;"), flush=True)
            pending.discard(e.get("id"))
            if not pending:
                break
            answer(st, e, o)
    except TimeoutError:
        sys.exit("xmpp.py: no stanza with id %r within %.0f s" % (o.await_id, o.timeout))
    except EOFError as e:
        sys.exit("xmpp.py: %s" % e)
    st.send("</stream:stream>")
    try:
        st.sock.close()
    except OSError:
        pass


if __name__ == "__main__":
    main()
