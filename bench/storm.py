#!/usr/bin/env python3
"""storm: how long until every device is back after it lost its XMPP node (docs/scaling.md).

A discrete-time simulation (10 ms steps) of D devices that lose their connection, each then
reconnecting with libxpush's backoff (common/backoff.c: the delay before attempt k is uniform in
[base/2, min(cap, base * 2^k)], defaults reconnect_base_ms 2000, reconnect_cap_ms 300000), against
the surviving nodes' login capacity C (logins per second, all nodes together). Logins wait in one
FIFO; an attempt still waiting after connect_timeout_ms (30000) is abandoned by the client, which
backs off and tries again (the model charges the server nothing for an abandoned attempt: it is
optimistic there). Losses are detected at once (a node that crashes while its host's kernel
lives resets every TCP connection) or spread evenly over a detection window (a host that
vanishes: each device notices at its next heartbeat, heartbeat interval + timeout).

Usage: storm.py [--login-rate R] [--online N] [--nodes K] [--node-cores C] [--scenario NAME]...
(R: logins/s of one node, as scripts/capacity measures it)
Prints one line per scenario: devices, capacity, times until 50/90/99/100 % are back, the longest
queue and the attempts per device.
"""
import argparse
import heapq
import random
from collections import deque


def simulate(devices, capacity, base_ms=2000, cap_ms=300000, timeout_ms=30000, detect_s=0.0,
             seed=1, step_ms=10, max_entities=50000):
    # Beyond max_entities, each simulated device stands for `weight` devices with the same
    # timing, and the capacity is divided by the same weight: the times are unchanged.
    weight = max(1, -(-devices // max_entities))
    devices, capacity = devices // weight, capacity / weight
    rnd = random.Random(seed)
    pending = []  # (time_ms, device, attempt number)
    for d in range(devices):
        lost_at = rnd.uniform(0, detect_s * 1000) if detect_s else 0.0
        delay = rnd.uniform(base_ms / 2, base_ms)  # attempt 0: [base/2, base]
        heapq.heappush(pending, (lost_at + delay, d, 1))
    queue = deque()  # (arrival_ms, device, attempt)
    back_at = []
    attempts = devices
    longest = 0
    credit = 0.0
    per_step = capacity * step_ms / 1000.0
    t = 0.0
    while len(back_at) < devices:
        t += step_ms
        while pending and pending[0][0] <= t:
            at, d, k = heapq.heappop(pending)
            queue.append((at, d, k))
        longest = max(longest, len(queue))
        credit += per_step
        while queue and credit >= 1.0:
            at, d, k = queue.popleft()
            if t - at > timeout_ms:  # the client gave up on this attempt: back off, try again
                ceil = min(cap_ms, base_ms * 2 ** k)
                delay = rnd.uniform(min(base_ms / 2, ceil), ceil)
                heapq.heappush(pending, (at + timeout_ms + delay, d, k + 1))
                attempts += 1
                continue
            credit -= 1.0
            back_at.append(t)
        if not queue:
            credit = min(credit, 1.0)  # idle capacity is not saved up
        # attempts that timed out while waiting deep in the queue
        while queue and t - queue[0][0] > timeout_ms:
            at, d, k = queue.popleft()
            ceil = min(cap_ms, base_ms * 2 ** k)
            delay = rnd.uniform(min(base_ms / 2, ceil), ceil)
            heapq.heappush(pending, (at + timeout_ms + delay, d, k + 1))
            attempts += 1
    back_at.sort()

    def pct(p):
        return back_at[max(0, min(devices, round(devices * p)) - 1)] / 1000.0

    return {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "all": pct(1.0),
            "longest_queue": longest * weight, "attempts_per_device": attempts / devices}


def scenarios(online, nodes, detect_s):
    """name: (devices, surviving nodes, detection window s, description)"""
    lost = online // nodes
    return {
        "lab": (2000, 1, 0, "this machine: 2,000 devices, one node"),
        "node-crash": (lost, nodes - 1, 0, "%s online on %d nodes, one node crashes (RST): %s to %d "
                       "nodes" % (f(online), nodes, f(lost), nodes - 1)),
        "node-vanish": (lost, nodes - 1, detect_s, "the same, the host vanishes: detected over %d s"
                        % detect_s),
        "cluster-restart": (online, nodes, 0, "all %d nodes restart: %s devices at once"
                            % (nodes, f(online))),
    }


def f(n):
    return "{:,}".format(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--login-rate", type=float, default=130.0,
                    help="logins per second one node completes (scripts/capacity measures it)")
    ap.add_argument("--scenario", action="append",
                    choices=["lab", "node-crash", "node-vanish", "cluster-restart"])
    ap.add_argument("--online", type=int, default=1000000, help="devices online in the cluster")
    ap.add_argument("--nodes", type=int, default=4, help="ejabberd nodes of the cluster")
    ap.add_argument("--detect-s", type=int, default=620,
                    help="node-vanish: detection window (heartbeat_max_ms + heartbeat_timeout_ms)")
    ap.add_argument("--base-ms", type=int, default=2000)
    ap.add_argument("--cap-ms", type=int, default=300000)
    ap.add_argument("--timeout-ms", type=int, default=30000)
    ap.add_argument("--node-cores", type=int, default=0,
                    help="scale the login rate to nodes of this many cores (measured on 2 cores "
                         "shared with the simulator; 0: as measured)")
    a = ap.parse_args()
    rate = a.login_rate * (a.node_cores / 2.0 if a.node_cores else 1.0)
    print("storm: login rate %.0f/s per node, reconnect_base_ms %d, reconnect_cap_ms %d, "
          "connect_timeout_ms %d" % (rate, a.base_ms, a.cap_ms, a.timeout_ms))
    table = scenarios(a.online, a.nodes, a.detect_s)
    for name in a.scenario or list(table):
        devices, nodes, detect, text = table[name]
        r = simulate(devices, rate * nodes, a.base_ms, a.cap_ms, a.timeout_ms, detect)
        print("storm %s (%s): capacity %.0f logins/s; back: 50%% %.0f s, 90%% %.0f s, 99%% %.0f s, "
              "all %.0f s; longest queue %d; attempts per device %.2f"
              % (name, text, rate * nodes, r["p50"], r["p90"], r["p99"], r["all"],
                 r["longest_queue"], r["attempts_per_device"]))


if __name__ == "__main__":
    main()
