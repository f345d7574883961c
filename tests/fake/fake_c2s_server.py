#!/usr/bin/env python3
"""tests/fake/fake_c2s_server.py: a hostile XMPP client-to-server endpoint for libxpush tests.

Listens on 127.0.0.1:--port, accepts ONE connection, plays --scenario, records every byte it
received from the device (after TLS: the decrypted bytes) in --record, and exits when the
device closes or --hold seconds pass. Prints "listening" once ready. Scenarios:

  strip       a STARTTLS-stripping attacker: features offer only SASL PLAIN, no <starttls/>
  tlsfail     <starttls/> offered, then answered with <failure/>
  wronghost   <starttls/> + <proceed/>, then TLS with --cert/--key (signed by the device's CA,
              but for another host name)
  laughs      a DOCTYPE with a billion-laughs tree in the plaintext stream header, before
              STARTTLS (what anyone on the path can inject)
  laughs_tls  a good TLS session with --cert/--key (the real server's), then the billion laughs
              in the encrypted stream header (a hostile or compromised server)
  laughs_first  the billion-laughs header sent at once on accept, before reading anything: what
              an attacker answering a direct-TLS (XEP-0368) connection in plaintext sends

  silent_tls  <starttls/> offered, <proceed/> sent, then nothing at all: the device's TLS
              handshake gets no answer (a captive portal or middlebox that accepts TCP and then
              says nothing)
  silent      nothing at all from the accept on; with --direct this is a direct-TLS port that
              accepts and never answers the ClientHello (no TLS is started on the server side)

--direct: direct TLS (XEP-0368): TLS with --cert/--key from the first byte, then the scenario
inside it (laughs: the bomb after a TLS handshake the device should refuse for the certificate).
--connections N: serve N connections one after the other (default 1), each with the scenario,
until --hold seconds have passed since the first accept. For every connection it prints
"accepted N", "stalled N" (silent scenarios: the silence starts), "hello N bytes=B" (the
first bytes the device sent into the silence, its ClientHello) and "closed N after_ms=MS"
(the device closed it MS milliseconds after the accept), flushed at once.
"""
import argparse
import socket
import ssl
import sys
import time

NS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"


def header(domain, prolog=""):
    return ("<?xml version='1.0'?>%s<stream:stream %s from='%s' id='fake1' version='1.0'>"
            % (prolog, NS, domain))


def laughs():
    ents = ["<!ENTITY l0 'lolololololololololo'>"]
    for i in range(1, 10):
        ents.append("<!ENTITY l%d '%s'>" % (i, ("&l%d;" % (i - 1)) * 10))
    return "<!DOCTYPE stream:stream [%s]>" % "".join(ents)


class Peer:
    def __init__(self, sock, record, deadline):
        self.sock, self.record, self.deadline = sock, record, deadline
        self.buf = b""

    def recv_until(self, needle):
        while needle not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out waiting for %r" % needle)
            self.sock.settimeout(left)
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("device closed the connection")
            self.record.write(d)
            self.record.flush()
            self.buf += d
        return self.buf

    def send(self, s):
        self.sock.sendall(s.encode("utf-8"))

    def drain(self):
        """Record whatever else the device sends until it closes or time runs out.
        True if the device closed the connection (EOF or reset)."""
        try:
            while True:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.record.write(d)
                self.record.flush()
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--domain", default="xpush.test")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--hold", type=float, default=20.0)
    ap.add_argument("--direct", action="store_true", help="TLS from the first byte (XEP-0368)")
    ap.add_argument("--connections", type=int, default=1)
    o = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", o.port))
    srv.listen(4)
    srv.settimeout(30)
    print("listening", flush=True)
    deadline = None
    record = open(o.record, "ab")
    try:
        for n in range(1, o.connections + 1):
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                srv.settimeout(left)
            try:
                sock, _ = srv.accept()
            except (socket.timeout, OSError):
                break
            t0 = time.monotonic()
            if deadline is None:
                deadline = t0 + o.hold
            print("accepted %d" % n, flush=True)
            if o.connections > 1:
                record.write(b"\n--- connection %d ---\n" % n)
            closed = serve(o, sock, record, deadline, n)
            if closed:
                print("closed %d after_ms=%d" % (n, (time.monotonic() - t0) * 1000), flush=True)
    finally:
        srv.close()
        record.close()
    return 0


def serve(o, sock, record, deadline, n):
    """Play the scenario on one connection. True if the device closed it."""
    p = Peer(sock, record, deadline)
    s = o.scenario
    closed = False
    try:
        if s in ("silent", "silent_tls"):
            if s == "silent_tls":
                p.recv_until(b"<stream:stream")
                p.send(header(o.domain) + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
                       "xmpp-tls'><required/></starttls></stream:features>")
                p.recv_until(b"<starttls")
                p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                record.write(b"\n--- <proceed/> sent; silent from here ---\n")
            print("stalled %d" % n, flush=True)
            # say nothing; read (and record) what comes until the device closes
            left = deadline - time.monotonic()
            if left > 0:
                sock.settimeout(left)
                d = sock.recv(65536)
                if not d:
                    return True
                record.write(d)
                record.flush()
                # the device is in its handshake now (its ClientHello arrived)
                print("hello %d bytes=%d" % (n, len(d)), flush=True)
            closed = p.drain()
            return closed
        if o.direct:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(o.cert, o.key)
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            sock = ctx.wrap_socket(sock, server_side=True)
            record.write(b"--- direct TLS established; decrypted bytes follow ---\n")
            p = Peer(sock, record, deadline)
        if s == "laughs_first":
            p.send(header(o.domain, laughs()) + "<stream:features><x>&l9;</x><mechanisms xmlns="
                   "'urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
                   "</stream:features>")
            p.drain()
            return 0
        p.recv_until(b"<stream:stream")
        if s == "strip":
            p.send(header(o.domain) + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                   "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        elif s == "laughs":
            p.send(header(o.domain, laughs()) + "<stream:features><x>&l9;</x><starttls xmlns="
                   "'urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
        else:
            p.send(header(o.domain) + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                   "<required/></starttls></stream:features>")
            p.recv_until(b"<starttls")
            if s == "tlsfail":
                p.send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
            else:
                p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(o.cert, o.key)
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                tls = ctx.wrap_socket(sock, server_side=True)
                record.write(b"\n--- TLS established; decrypted bytes follow ---\n")
                p = Peer(tls, record, deadline)
                if s == "laughs_tls":
                    p.recv_until(b"<stream:stream")
                    p.send(header(o.domain, laughs()) + "<stream:features><x>&l9;</x>"
                           "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
                           "</mechanism></mechanisms></stream:features>")
        p.drain()
    except (OSError, ssl.SSLError, TimeoutError, EOFError) as e:
        record.write(("\n--- %s: %s ---\n" % (type(e).__name__, e)).encode())
        closed = isinstance(e, EOFError)
    finally:
        record.flush()
        try:
            sock.close()
        except OSError:
            pass
    return closed


if __name__ == "__main__":
    sys.exit(main())
