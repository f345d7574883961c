#!/usr/bin/env python3
"""tests/fake/fake_component_server.py: a hostile XEP-0114 server for xpushd's stream tests.

Listens on 127.0.0.1:--port and plays one scenario per accepted connection, in the order
given by --scenarios (comma-separated); when the list is used up it stops listening and exits.
Every event is appended to --log as one JSON line ({"t": seconds, "conn": n, "scenario": s,
"event": ...}). It never connects anywhere and sends only to the peer that connected.

Scenarios ("handshake" = send a stream header with an id, wait for <handshake>..</handshake>,
answer <handshake/>, as Prosody does for a good secret):
  doctype     a DOCTYPE with a billion-laughs entity tree in the stream header
  entity      handshake, then a stanza with an undefined entity reference
  ok          handshake, then hold the stream for --hold seconds, then close it
  big         handshake, then one 32 MiB stanza (as fast as the peer reads)
  cut         handshake, then half a stanza, then close the socket
  badutf8     handshake, then a stanza whose text is not UTF-8
  conflict    stream header, then <stream:error><conflict/> (retryable)
  notauth     stream header, then <stream:error><not-authorized/> after the handshake (final)
"""
import argparse
import json
import socket
import sys
import time

HDR = ("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns='jabber:component:accept' from='push.xpush.test' id='fake-%d'>")
FROM = "rogue@xpush.test/r"


def laughs():
    ents = ["<!ENTITY l0 'lolololololololololo'>"]
    for i in range(1, 10):
        ents.append("<!ENTITY l%d '%s'>" % (i, ("&l%d;" % (i - 1)) * 10))
    return "<?xml version='1.0'?><!DOCTYPE stream:stream [%s]>" % "".join(ents)


class Conn:
    def __init__(self, sock, n, log):
        self.sock, self.n, self.log = sock, n, log
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def read_until(self, needle, timeout=10.0):
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r from xpushd" % needle)
            self.sock.settimeout(left)
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("xpushd closed the connection")
            self.buf += d
        return self.buf

    def handshake(self):
        self.read_until(b"<stream:stream")
        self.send(HDR % self.n)
        self.read_until(b"</handshake>")
        self.send("<handshake/>")
        self.log("handshake")

    def wait_close(self, timeout=10.0):
        """Wait for xpushd to close (EOF or reset); returns seconds waited."""
        t0 = time.monotonic()
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except (ConnectionResetError, socket.timeout, OSError):
            pass
        return round(time.monotonic() - t0, 3)


def play(c, scenario, hold):
    if scenario == "doctype":
        c.read_until(b"<stream:stream")
        c.send(laughs() + HDR % c.n + "<x>&l9;</x>")
        c.log("sent", detail="DOCTYPE with a billion-laughs tree")
        c.log("peer_closed", waited=c.wait_close())
    elif scenario == "entity":
        c.handshake()
        c.send("<message from='%s' to='push.xpush.test'><body>&l9;</body></message>" % FROM)
        c.log("peer_closed", waited=c.wait_close())
    elif scenario == "ok":
        c.handshake()
        time.sleep(hold)
        c.send("</stream:stream>")
        c.log("closed_by_us")
    elif scenario == "big":
        c.handshake()
        chunk = b"A" * 65536
        sent = 0
        try:
            c.send("<message from='%s' to='push.xpush.test'><body>" % FROM)
            c.sock.settimeout(10)
            while sent < 32 * 1024 * 1024:
                c.sock.sendall(chunk)
                sent += len(chunk)
            c.send("</body></message>")
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError) as e:
            c.log("send_stopped", sent=sent, error=type(e).__name__)
        c.log("peer_closed", sent=sent, waited=c.wait_close())
    elif scenario == "cut":
        c.handshake()
        c.send("<iq type='set' from='%s' to='push.xpush.test' id='c1'><register xmlns='urn:xpush:0' app=" % FROM)
        time.sleep(0.2)
        c.log("closed_by_us")
    elif scenario == "badutf8":
        c.handshake()
        c.send(b"<message from='" + FROM.encode() + b"' to='push.xpush.test'><body>caf\xe9 \xff\xfe \xc0\xaf</body></message>")
        c.log("peer_closed", waited=c.wait_close())
    elif scenario == "conflict":
        c.read_until(b"<stream:stream")
        c.send(HDR % c.n + "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
               "</stream:error></stream:stream>")
        c.log("peer_closed", waited=c.wait_close())
    elif scenario == "notauth":
        c.read_until(b"<stream:stream")
        c.send(HDR % c.n)
        c.read_until(b"</handshake>")
        c.send("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
               "</stream:error></stream:stream>")
        c.log("peer_closed", waited=c.wait_close())
    else:
        raise ValueError("unknown scenario %s" % scenario)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--hold", type=float, default=1.0)
    ap.add_argument("--accept-timeout", type=float, default=30.0)
    o = ap.parse_args()
    scenarios = o.scenarios.split(",")
    t0 = time.monotonic()
    logf = open(o.log, "a", buffering=1, encoding="utf-8")

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", o.port))
    srv.listen(4)
    srv.settimeout(o.accept_timeout)
    print("listening on 127.0.0.1:%d" % o.port, flush=True)  # the test waits for this line
    for n, scenario in enumerate(scenarios, 1):
        def log(event, **kw):
            kw.update(t=round(time.monotonic() - t0, 3), conn=n, scenario=scenario, event=event)
            logf.write(json.dumps(kw, sort_keys=True) + "\n")
        try:
            sock, _ = srv.accept()
        except socket.timeout:
            log("no_connection")
            sys.exit(1)
        log("accepted")
        c = Conn(sock, n, log)
        try:
            play(c, scenario, o.hold)
        except (TimeoutError, EOFError, OSError) as e:
            log("error", error=str(e))
        finally:
            sock.close()
            log("done")
    srv.close()


if __name__ == "__main__":
    main()
