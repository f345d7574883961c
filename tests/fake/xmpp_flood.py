#!/usr/bin/env python3
"""tests/fake/xmpp_flood.py: one logged-in account floods a JID with IQs (a rogue device).

Logs in like tests/e2e/xmpp.py (STARTTLS verified against --ca-file, SASL PLAIN, bind), then
sends --count IQ pings to --to at --rate per second (in batches every 10 ms) while reading the
replies without blocking, and keeps reading until every IQ was answered or --timeout passes.
Prints one JSON object: sent, results, errors by condition, unanswered, send_seconds,
seconds (until the last reply). Exit 0 if every IQ was answered, 1 otherwise.

  xmpp_flood.py --jid mallory@xpush.test --password-file F --port 5222 --ca-file ca.pem \
                --to push.xpush.test --count 10000 --rate 10000
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import xmpp  # noqa: E402  (tests/e2e/xmpp.py: Stream, local)


def login(o):
    user, domain = o.jid.split("@", 1)
    with open(o.password_file, encoding="utf-8") as f:
        password = f.read()
    deadline = time.monotonic() + 15
    header = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % domain)
    sock = socket.create_connection((o.host, o.port), timeout=15)
    st = xmpp.Stream(sock)
    st.send(header)
    st.next(deadline)
    st.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    if xmpp.local(st.next(deadline).tag) != "proceed":
        sys.exit("xmpp_flood.py: server refused STARTTLS")
    ctx = ssl.create_default_context(cafile=o.ca_file)
    st.sock = ctx.wrap_socket(sock, server_hostname=domain)
    st.reset()
    st.send(header)
    st.next(deadline)
    import base64
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    st.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % token)
    if xmpp.local(st.next(deadline).tag) != "success":
        sys.exit("xmpp_flood.py: authentication failed")
    st.reset()
    st.send(header)
    st.next(deadline)
    st.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<resource>%s</resource></bind></iq>" % o.resource)
    if st.next(deadline).get("type") != "result":
        sys.exit("xmpp_flood.py: resource binding failed")
    return st


def drain(st, stats, pending):
    """Read whatever is there without blocking; account for flood replies."""
    st.sock.setblocking(False)
    try:
        while True:
            try:
                data = st.sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            if not data:
                raise EOFError("server closed the connection")
            st.parser.Parse(data, False)
    finally:
        st.sock.setblocking(True)
    while st.queue:
        e = st.queue.pop(0)
        i = e.get("id") or ""
        if not i.startswith("f") or i not in pending:
            continue
        pending.discard(i)
        if e.get("type") == "result":
            stats["results"] += 1
        else:
            cond = "other"
            for c in e:
                if xmpp.local(c.tag) == "error":
                    for k in c:
                        if xmpp.local(k.tag) != "text":
                            cond = xmpp.local(k.tag)
            stats["errors"][cond] = stats["errors"].get(cond, 0) + 1
        stats["last_reply_s"] = time.monotonic() - stats["t0"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--resource", default="flood")
    ap.add_argument("--to", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--rate", type=int, default=10000, help="IQs per second")
    ap.add_argument("--timeout", type=float, default=30.0)
    o = ap.parse_args()

    st = login(o)
    stats = {"sent": 0, "results": 0, "errors": {}, "t0": time.monotonic(), "last_reply_s": 0.0}
    pending = set()
    batch = max(1, o.rate // 100)
    t0 = stats["t0"]
    while stats["sent"] < o.count:
        n = min(batch, o.count - stats["sent"])
        chunk = []
        for k in range(stats["sent"], stats["sent"] + n):
            i = "f%d" % k
            pending.add(i)
            chunk.append("<iq type='get' to='%s' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (o.to, i))
        st.send("".join(chunk))
        stats["sent"] += n
        drain(st, stats, pending)
        # Pace to the rate: the k-th batch leaves at k * 10 ms.
        due = t0 + stats["sent"] / o.rate
        left = due - time.monotonic()
        if left > 0:
            time.sleep(left)
    stats["send_seconds"] = round(time.monotonic() - t0, 3)
    deadline = time.monotonic() + o.timeout
    while pending and time.monotonic() < deadline:
        drain(st, stats, pending)
        time.sleep(0.01)
    stats["unanswered"] = len(pending)
    stats["seconds"] = round(stats.pop("last_reply_s"), 3)
    del stats["t0"]
    try:
        st.send("</stream:stream>")
        st.sock.close()
    except OSError:
        pass
    print(json.dumps(stats, sort_keys=True))
    sys.exit(0 if not pending else 1)


if __name__ == "__main__":
    main()
