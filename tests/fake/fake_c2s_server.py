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

--direct: direct TLS (XEP-0368): TLS with --cert/--key from the first byte, then the scenario
inside it (laughs: the bomb after a TLS handshake the device should refuse for the certificate).
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
        """Record whatever else the device sends until it closes or time runs out."""
        try:
            while True:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    return
                self.sock.settimeout(left)
                d = self.sock.recv(65536)
                if not d:
                    return
                self.record.write(d)
                self.record.flush()
        except (OSError, ssl.SSLError):
            return


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
    o = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", o.port))
    srv.listen(1)
    srv.settimeout(30)
    print("listening", flush=True)
    sock, _ = srv.accept()
    srv.close()
    deadline = time.monotonic() + o.hold
    record = open(o.record, "ab")
    p = Peer(sock, record, deadline)
    s = o.scenario
    try:
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
    finally:
        record.close()
        try:
            sock.close()
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
