#!/usr/bin/env python3
"""plan: the capacity plan of docs/scaling.md, computed from scripts/capacity's figures.

Usage: plan.py [bench/results/capacity.env] [--registered N] [--online N] [--per-minute N]

Reads the measured figures (key=value lines) and prints the arithmetic for the targets as
Markdown: ejabberd nodes, xpushd instances, the Postgres primary (cores, WAL, IOPS, storage).
Two figures come from docs/benchmarks.md (B7, pg_stat_statements): the statement time per push on
xpushd's main session (fan-out, claim, refill: 91.2 + 54.3 + 26.2 + 7.5 us) and on its acks
session (99.3 us), and the calls per push of its committing statements in B1 (ack batches 485,
fan-outs 81, claims 99 per 20,000 pushes).
"""
import argparse
import math

MAIN_US = 91.2 + 54.3 + 26.2 + 7.5  # benchmarks.md B7: statement time per push, main session
ACKS_US = 99.3  # benchmarks.md B7: the ack batch, acks session
COMMITS_PER_PUSH = (485 + 81 + 99) / 20000  # benchmarks.md B7 calls: ack batches, fan-outs, claims
SINGLE_INSERT_US = 555.3  # benchmarks.md B2: one single-row autocommit INSERT, statement time
HEARTBEAT_S = 240  # libxpush heartbeat_ms default (docs/heartbeat.md): pings per online device
NODE_CORES, NODE_GIB = 16, 64  # the machine the plan assumes for an ejabberd node
UTIL = 0.5  # plan every resource at half of its measured ceiling (peaks, a node lost)


def load(path):
    env = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            try:
                env[k] = float(v)
            except ValueError:
                env[k] = v
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("env", nargs="?", default="bench/results/capacity.env")
    ap.add_argument("--registered", type=int, default=10_000_000)
    ap.add_argument("--online", type=int, default=1_000_000)
    ap.add_argument("--per-minute", type=int, default=1_000_000)
    a = ap.parse_args()
    m = load(a.env)
    rate = a.per_minute / 60.0
    day = rate * 86400
    out = []
    say = out.append

    say("**ejabberd nodes.**")
    mem_gib = m["ejabberd_kib_per_connection"] * a.online / 2**20
    pings = a.online / HEARTBEAT_S
    ej_cores = m["ejabberd_cpu_us_per_push"] * (rate + pings) / 1e6
    by_mem = math.ceil(mem_gib / (NODE_GIB * 0.7))
    by_cpu = math.ceil(ej_cores / (NODE_CORES * UTIL))
    nodes = max(by_mem, by_cpu, 2) + 1
    say("- memory: %s KiB per connection x %s online = **%.1f GiB** (capacity `ejabberd_kib_per_connection`)"
        % (fmt(m["ejabberd_kib_per_connection"]), fmt(a.online), mem_gib))
    say("- CPU: %s us per push x (%s pushes/s + %s heartbeat pings/s: %s online / %d s, a ping being "
        "one stanza each way like a push) = **%.1f cores** (capacity `ejabberd_cpu_us_per_push`; on "
        "2 shared cores: assumed to hold on larger ones)"
        % (fmt(m["ejabberd_cpu_us_per_push"]), fmt(rate), fmt(pings), fmt(a.online), HEARTBEAT_S, ej_cores))
    say("- nodes of %d cores and %d GiB, used to %d%% of CPU and 70%% of memory: max(%d by memory, "
        "%d by CPU, 2) + 1 so that the cluster survives the loss of a node = **%d nodes** (%s devices "
        "each, %s each after a loss)"
        % (NODE_CORES, NODE_GIB, UTIL * 100, by_mem, by_cpu, nodes, fmt(a.online / nodes),
           fmt(a.online / (nodes - 1))))
    say("")

    say("**xpushd instances.**")
    ceiling = 1e6 / MAIN_US
    inst = math.ceil(rate / (ceiling * UTIL))
    say("- one instance's main session spends %.1f us of statement time per push (benchmarks B7), "
        "a ceiling of 1,000,000 / %.1f = %s pushes/s; its acks session %.1f us (%s/s). At %d%%: "
        "%s / %s = **%d instances**, spread over the nodes (each on its node's component port, its "
        "own `instance_id`)"
        % (MAIN_US, MAIN_US, fmt(ceiling), ACKS_US, fmt(1e6 / ACKS_US), UTIL * 100, fmt(rate),
           fmt(ceiling * UTIL), inst))
    say("- CPU: %s us per push x %s/s = %.2f cores in all; memory: %s KiB each at start, plus at most "
        "%s B per online device it serves (capacity; xpushd keeps no per-device state, this is "
        "buffers) = %.0f MiB each; Postgres connections: 2 each = %d"
        % (fmt(m["xpushd_cpu_us_per_push"]), fmt(rate), m["xpushd_cpu_us_per_push"] * rate / 1e6,
           fmt(m["xpushd_ejabberd_rss_kib_before"]), fmt(m["xpushd_ejabberd_bytes_per_online_device"]),
           (m["xpushd_ejabberd_rss_kib_before"] * 1024 + m["xpushd_ejabberd_bytes_per_online_device"]
            * a.online / inst) / 2**20, 2 * inst))
    say("")

    say("**Postgres primary** (and a synchronous standby of the same size).")
    pg_cores = m["postgres_cpu_us_per_push"] * rate / 1e6
    single = SINGLE_INSERT_US * rate / 1e6
    say("- CPU: %s us per push x %s/s = **%.1f cores** busy with producers' bulk INSERTs "
        "(capacity `postgres_cpu_us_per_push`). Producers sending one autocommit INSERT per push "
        "add about %.0f us each (benchmarks B2: statement time at load) = %.1f cores more: batch "
        "them (several rows per INSERT or per transaction). Plan **16 cores**: %.1f of them busy, "
        "room for peaks, vacuum and the producers' own work"
        % (fmt(m["postgres_cpu_us_per_push"]), fmt(rate), pg_cores, SINGLE_INSERT_US, single, pg_cores))
    wal = m["wal_bytes_per_push"] * rate
    say("- WAL: %s B per push x %s/s = **%.1f MB/s** (%.1f TB a day), written on the primary, sent "
        "to and flushed on the standby (capacity `wal_bytes_per_push`)"
        % (fmt(m["wal_bytes_per_push"]), fmt(rate), wal / 1e6, wal * 86400 / 1e12))
    commits = COMMITS_PER_PUSH * rate
    iops = 2 * wal / 8192
    say("- IOPS: xpushd commits %.4f times per push (benchmarks B7: ack batches, fan-outs, claims) "
        "= %s commits/s, each a WAL flush (group commit merges concurrent ones) and, with the "
        "synchronous standby, a round trip to it; data pages written back by checkpoints are of "
        "the order of the WAL volume, so about 2 x %.1f MB/s / 8 KiB = **%s write IOPS** at 8 KiB: "
        "an NVMe volume, not a network disk at its baseline"
        % (COMMITS_PER_PUSH, fmt(commits), wal / 1e6, fmt(iops)))
    ledger_day = m["ledger_bytes_per_delivery"] * day
    notif_day = m["notification_bytes_per_push"] * day
    roster = m["devices_bytes_per_device"] * a.registered
    say("- storage: the ledger grows %s B per delivery x %s deliveries a day = **%.0f GB a day**, "
        "the notifications %s B per push (at most as many pushes as deliveries) = %.0f GB a day; "
        "the roster %s B x %s registered = %.1f GB. Nothing deletes finished rows today: keep a "
        "day or two (partition the ledger and the notifications by day and drop old partitions, "
        "or delete terminal rows older than a day in small batches) and size the disk for it"
        % (fmt(m["ledger_bytes_per_delivery"]), fmt(day), ledger_day / 1e9,
           fmt(m["notification_bytes_per_push"]), notif_day / 1e9,
           fmt(m["devices_bytes_per_device"]), fmt(a.registered), roster / 1e9))
    say("- memory: the roster (%.1f GB) and the pending part of the ledger must stay cached: "
        "**64 GB** RAM" % (roster / 1e9))
    print("\n".join(out))
    print("\nsummary: pg_cores=%.1f wal_mb_s=%.1f nodes=%d xpushd=%d" % (pg_cores, wal / 1e6, nodes, inst))


def fmt(x):
    return "{:,.0f}".format(x) if abs(x) >= 100 else ("{:,.1f}".format(x) if x != int(x) else "{:,}".format(int(x)))


if __name__ == "__main__":
    main()
