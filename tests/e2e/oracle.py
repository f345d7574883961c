#!/usr/bin/env python3
"""oracle: classify every (notification, device) of a fault test.

Usage:
  oracle.py --expected FILE --ledger FILE DEVICE=OUTFILE [DEVICE=OUTFILE ...]

--expected: lines "NOTIF_ID DEVICE": the pushes whose INSERT committed (the producer saw
            COMMIT succeed) and which target DEVICE. Only committed pushes are promised.
--ledger:   lines "NOTIF_ID DEVICE STATE" (psql -At -F' ' of push.deliveries joined with
            push.devices.device) at the end of the test.
DEVICE=OUTFILE: what xpush-client printed on stdout for that device (human lines
            "notification id=N ..." or --json objects with "id"); retract lines are ignored.

Each expected pair is exactly one of:
  delivered       displayed once
  displayed_twice displayed more than once (a broken promise)
  expired         not displayed, and the ledger says expired/retracted/superseded/failed
  lost            not displayed, and the ledger does not explain why (a broken promise)
and each displayed pair that was not expected counts as unexpected (e.g. a rolled-back
INSERT that was delivered anyway).

Prints one line of counts, "lost=0 displayed_twice=0 unexpected=0 expired=E delivered=D",
then one line per problem. Exit 0 when lost, displayed_twice and unexpected are all 0.
"""
import json
import re
import sys
from collections import Counter

ENDED = {"expired", "retracted", "superseded", "failed"}
HUMAN = re.compile(r"^notification id=(\d+)(?:\s|$)")


def displayed_ids(path):
    ids = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("event", "notification") == "notification" and "id" in obj:
                    ids.append(int(obj["id"]))
                continue
            m = HUMAN.match(line)
            if m:
                ids.append(int(m.group(1)))
    return ids


def main(argv):
    expected_file = ledger_file = None
    outputs = {}
    args = iter(argv)
    for a in args:
        if a == "--expected":
            expected_file = next(args)
        elif a == "--ledger":
            ledger_file = next(args)
        elif "=" in a:
            dev, path = a.split("=", 1)
            outputs[dev] = path
        else:
            sys.exit(f"oracle: unexpected argument {a!r} (see --help in the source)")
    if not expected_file or not ledger_file or not outputs:
        sys.exit("oracle: need --expected, --ledger and at least one DEVICE=OUTFILE")

    expected = set()
    with open(expected_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                expected.add((int(parts[0]), parts[1]))
    ledger = {}
    with open(ledger_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                ledger[(int(parts[0]), parts[1])] = parts[2]
    shown = Counter()
    for dev, path in outputs.items():
        for nid in displayed_ids(path):
            shown[(nid, dev)] += 1

    counts = Counter(lost=0, displayed_twice=0, unexpected=0, expired=0, delivered=0)
    problems = []
    for pair in sorted(expected):
        n = shown.get(pair, 0)
        if n == 1:
            counts["delivered"] += 1
        elif n > 1:
            counts["displayed_twice"] += 1
            problems.append(f"displayed_twice notif={pair[0]} device={pair[1]} times={n}")
        elif ledger.get(pair) in ENDED:
            counts["expired"] += 1
        else:
            counts["lost"] += 1
            problems.append(f"lost notif={pair[0]} device={pair[1]} ledger={ledger.get(pair, 'none')}")
    for pair, n in sorted(shown.items()):
        if pair not in expected:
            counts["unexpected"] += 1
            problems.append(f"unexpected notif={pair[0]} device={pair[1]} times={n}")
    print(" ".join(f"{k}={counts[k]}" for k in
                   ("lost", "displayed_twice", "unexpected", "expired", "delivered")))
    for p in problems[:50]:
        print(p)
    return 0 if counts["lost"] == counts["displayed_twice"] == counts["unexpected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
