#!/usr/bin/env python3
"""bench/analyze.py: turn the raw files of one scripts/bench run into figures.

  analyze.py b1-rate RAW        print B1's mean xpush rate (deliveries acked per second)
  analyze.py report RAW OUT     write OUT/latest.md and OUT/*.svg (gnuplot, if installed)
  analyze.py docs LATEST DOCS   copy LATEST between the result markers of DOCS

Raw files (all times CLOCK_REALTIME nanoseconds, one clock for every process and Postgres):
  meta.env, results.env                   key=value
  b1_base_R.txt, b2_base.txt              basesend: seq dev t_send t_ack
  b1_xp_R.sum, b1_base_R.sum              producer/basesend summary + CPU key=values
  *.ledger                                notification device created sent acked state attempts
  b2_xp_prod.txt, b6_prod.txt             producer: id dev t_before t_commit
  b2_*_recv.txt, b5_recv.txt              devsim: t kind id dev
"""
import glob
import os
import re
import shutil
import subprocess
import sys


def kv_file(path):
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        for m in re.finditer(r"(\w+)=(\S+)", line):
            d[m.group(1)] = m.group(2)
    return d


def meta_file(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    return d


def rows(path, sep=None):
    if not os.path.exists(path):
        return []
    return [l.rstrip("\n").split(sep) for l in open(path) if l.strip()]


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def ledger(path):
    out = []
    for r in rows(path):
        out.append({"nid": int(r[0]), "dev": int(r[1]), "created": int(r[2]), "sent": int(r[3]),
                    "acked": int(r[4]), "state": r[5], "attempts": int(r[6])})
    return out


# --- B1 -------------------------------------------------------------------------------------

def b1_rounds(raw, pfx=""):
    res = []
    r = 1
    while os.path.exists(os.path.join(raw, "%sb1_base_%d.txt" % (pfx, r))):
        base = rows(os.path.join(raw, "%sb1_base_%d.txt" % (pfx, r)))
        t0 = min(int(x[2]) for x in base)
        t1 = max(int(x[3]) for x in base)
        nb = sum(1 for x in base if int(x[3]) > 0)
        bsum = kv_file(os.path.join(raw, "%sb1_base_%d.sum" % (pfx, r)))
        xs = kv_file(os.path.join(raw, "%sb1_xp_%d.sum" % (pfx, r)))
        led = ledger(os.path.join(raw, "%sb1_xp_%d.ledger" % (pfx, r)))
        rd = {"round": r, "base_n": nb, "base_s": (t1 - t0) / 1e9, "base_rate": nb / ((t1 - t0) / 1e9),
              "base_t0": t0, "base_acks": sorted(int(x[3]) for x in base if int(x[3]) > 0),
              "base_prosody_cpu_ms": int(bsum.get("prosody_cpu_ms", 0)),
              "base_devsim_cpu_ms": int(bsum.get("devsim_cpu_ms", 0))}
        if led:
            acked = [x["acked"] for x in led if x["acked"]]
            start = int(xs.get("first_commit_ns", min(x["created"] for x in led)))
            rd.update({"xp_n": len(acked), "xp_s": (max(acked) - start) / 1e9,
                       "xp_rate": len(acked) / ((max(acked) - start) / 1e9), "xp_t0": start,
                       "xp_acks": sorted(acked),
                       "xp_retries": sum(1 for x in led if x["attempts"] > 1),
                       "insert_s": float(xs.get("insert_s", 0)),
                       "xpushd_cpu_ms": int(xs.get("xpushd_cpu_ms", 0)),
                       "prosody_cpu_ms": int(xs.get("prosody_cpu_ms", 0)),
                       "postgres_cpu_ms": int(xs.get("postgres_cpu_ms", 0)),
                       "devsim_cpu_ms": int(xs.get("devsim_cpu_ms", 0))})
        res.append(rd)
        r += 1
    return res


def mean(v):
    v = [x for x in v if x == x]
    return sum(v) / len(v) if v else float("nan")


# --- plots ----------------------------------------------------------------------------------

def gnuplot(out_dir, name, script, data):
    """Write NAME.dat files and render NAME.svg; returns the svg's file name or None."""
    if not shutil.which("gnuplot"):
        return None
    for suffix, lines in data.items():
        with open(os.path.join(out_dir, "%s%s.dat" % (name, suffix)), "w") as f:
            f.write("\n".join(lines) + "\n")
    svg = name + ".svg"
    full = ("set terminal svg size 760,420 dynamic font 'sans,11' background rgb 'white'\n"
            "set output '%s'\nset grid\nset key top left\n%s\n" % (svg, script))
    try:
        subprocess.run(["gnuplot"], input=full.encode(), cwd=out_dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        sys.stderr.write("analyze: gnuplot failed for %s: %s\n" % (name, getattr(e, "stderr", b"")))
        return None
    for suffix in data:
        os.remove(os.path.join(out_dir, "%s%s.dat" % (name, suffix)))
    return svg


def cumulative(times, t0, step_max=400):
    """(seconds since t0, count) pairs, thinned to about step_max points."""
    n = len(times)
    if not n:
        return []
    every = max(1, n // step_max)
    pts = ["0 0"]
    for i, t in enumerate(times):
        if i % every == 0 or i == n - 1:
            pts.append("%.4f %d" % ((t - t0) / 1e9, i + 1))
    return pts


# --- report ---------------------------------------------------------------------------------

def fmt(x, nd=1):
    if x is None or x != x:
        return "n/a"
    return ("{:,.%df}" % nd).format(x)


def verdict(ok):
    if ok is None:
        return "report"
    return "met" if ok else "**missed**"


def section_b1(raw, out, meta, R, summary, md, pfx="", server="Prosody"):
    """B1 rows, table and plot; returns the mean xpush rate (or None)."""
    tag = "" if not pfx else " (%s)" % server
    ndev = R.get(pfx + "b1_devices", meta_num(meta, "b1_devices"))
    b1 = b1_rounds(raw, pfx)
    b1_rate = None
    if b1:
        xr = mean([r.get("xp_rate", float("nan")) for r in b1])
        br = mean([r["base_rate"] for r in b1])
        ratio = xr / br
        b1_rate = xr
        summary.append(("B1" + tag, "delivered+acked/s, xpush / baseline (%s devices, window %s)"
                        % (ndev, meta_num(meta, "window")),
                        "%s / %s = **%.2f**" % (fmt(xr, 0), fmt(br, 0), ratio), ">= 0.9",
                        verdict(ratio >= 0.9)))
        t = ["| round | baseline n | baseline s | baseline /s | xpush n | xpush s | xpush /s | ratio | resends |",
             "|---|---|---|---|---|---|---|---|---|"]
        for r in b1:
            t.append("| %d | %d | %.2f | %s | %s | %s | %s | %s | %s |" % (
                r["round"], r["base_n"], r["base_s"], fmt(r["base_rate"], 0), r.get("xp_n", "n/a"),
                fmt(r.get("xp_s"), 2), fmt(r.get("xp_rate"), 0),
                fmt(r.get("xp_rate", float("nan")) / r["base_rate"], 2), r.get("xp_retries", "n/a")))
        md.append("## B1%s: throughput against the baseline\n" % tag)
        md.append("Each round: the baseline component (bench/basesend) sends %s notification IQs "
                  "per device to the same %s logged-in devices through the same %s, at most "
                  "%s unacked per device; then bench/producer INSERTs the same number of "
                  "notifications (one per device per round, %s-row INSERT ... SELECT "
                  "transactions) and xpushd delivers them with `device_window = %s`. xpush's time "
                  "runs from the first COMMIT to the last `acked_at` in the ledger; the baseline's "
                  "from its first send to its last ack.\n"
                  % (meta_num(meta, "b1_per"), ndev, server, meta_num(meta, "window"),
                     "1000", meta_num(meta, "window")))
        md.extend(t)
        md.append("")
        r1 = b1[0]
        if "xp_acks" in r1:
            svg = gnuplot(out, pfx + "b1_throughput",
                          "set title 'B1%s: acks over time, round 1'" % tag + "\nset xlabel 'seconds since first send / first COMMIT'\n"
                          "set ylabel 'acked'\nplot '%sb1_throughput_b.dat' w l lw 2 t 'baseline (component, no database)', "
                          "'%sb1_throughput_x.dat' w l lw 2 t 'xpush (INSERT -> ledger ack)'" % (pfx, pfx),
                          {"_b": cumulative(r1["base_acks"], r1["base_t0"]),
                           "_x": cumulative(r1["xp_acks"], r1["xp_t0"])})
            if svg:
                md.append("![B1%s acks over time](%s)\n" % (tag, svg))

    return b1_rate


def section_b2(raw, out, meta, R, summary, md, pfx="", server="Prosody"):
    tag = "" if not pfx else " (%s)" % server
    ndev = R.get(pfx + "b1_devices", meta_num(meta, "b1_devices"))
    prod = rows(os.path.join(raw, pfx + "b2_xp_prod.txt"))
    if prod:
        commit = {int(x[0]): int(x[3]) for x in prod}
        recv = {}
        for x in rows(os.path.join(raw, pfx + "b2_xp_recv.txt")):
            if x[1] == "x":
                nid = int(x[2])
                recv[nid] = min(recv.get(nid, 1 << 62), int(x[0]))
        led = {x["nid"]: x["acked"] for x in ledger(os.path.join(raw, pfx + "b2_xp.ledger"))}
        xr = [(recv[i] - c) / 1e6 for i, c in commit.items() if i in recv]
        xa = [(led[i] - c) / 1e6 for i, c in commit.items() if led.get(i)]
        base = rows(os.path.join(raw, pfx + "b2_base.txt"))
        send = {int(x[0]): int(x[2]) for x in base}
        bre = {}
        for x in rows(os.path.join(raw, pfx + "b2_base_recv.txt")):
            if x[1] == "b":
                s = int(x[2])
                bre[s] = min(bre.get(s, 1 << 62), int(x[0]))
        br = [(bre[s] - t) / 1e6 for s, t in send.items() if s in bre]
        ba = [(int(x[3]) - int(x[2])) / 1e6 for x in base if int(x[3]) > 0]
        stats = lambda v: (pct(v, 50), pct(v, 99), max(v) if v else float("nan"))
        sxr, sxa, sbr, sba = stats(xr), stats(xa), stats(br), stats(ba)
        add50, add99 = sxr[0] - sbr[0], sxr[1] - sbr[1]
        adda50, adda99 = sxa[0] - sba[0], sxa[1] - sba[1]
        summary.append(("B2" + tag, "latency added at %s/s: receipt p50 / p99 (ack p50 / p99), ms"
                        % R.get(pfx + "b2_rate", "?"),
                        "+%s / +%s (+%s / +%s)" % (fmt(add50, 2), fmt(add99, 2), fmt(adda50, 2), fmt(adda99, 2)),
                        "p50 <= 2, p99 <= 20", verdict(add50 <= 2 and add99 <= 20)))
        md.append("## B2%s: latency at half of B1's rate\n" % tag)
        md.append("%s notifications at %s/s (half of B1's xpush rate), one device after another. "
                  "xpush: single-row autocommit INSERTs by bench/producer (open loop over 16 "
                  "connections); the clock starts when the COMMIT has returned. Baseline: the same rate of IQs from the component, the clock "
                  "starts at its send. *Receipt* is the device simulator's timestamp on reading the "
                  "IQ; *ack* is `acked_at` in the ledger (xpush) or the ack's arrival at the sender "
                  "(baseline). Milliseconds; n = deliveries measured.\n"
                  % (len(commit), R.get(pfx + "b2_rate", "?")))
        md.append("| | n | p50 | p99 | max |")
        md.append("|---|---|---|---|---|")
        for name, v, s in (("baseline: send -> receipt", br, sbr), ("xpush: COMMIT -> receipt", xr, sxr),
                           ("baseline: send -> ack at sender", ba, sba), ("xpush: COMMIT -> ack recorded", xa, sxa)):
            md.append("| %s | %d | %s | %s | %s |" % (name, len(v), fmt(s[0], 2), fmt(s[1], 2), fmt(s[2], 2)))
        md.append("| **added by xpush, receipt** | | **%s** | **%s** | |" % (fmt(add50, 2), fmt(add99, 2)))
        md.append("| **added by xpush, ack** | | **%s** | **%s** | |" % (fmt(adda50, 2), fmt(adda99, 2)))
        md.append("")

        def cdf(v):
            v = sorted(v)
            n = len(v)
            every = max(1, n // 400)
            return ["%.4f %.5f" % (x, (i + 1) / n) for i, x in enumerate(v) if i % every == 0 or i == n - 1]
        script = ("set title 'B2%s: latency distribution at %s/s'\nset logscale x\n"
                  "set xlabel 'ms (log scale)'\nset ylabel 'fraction of deliveries'\nset key bottom right\n"
                  "plot '{p}b2_latency_br.dat' w l lw 2 t 'baseline send -> receipt', "
                  "'{p}b2_latency_xr.dat' w l lw 2 t 'xpush COMMIT -> receipt', "
                  "'{p}b2_latency_xa.dat' w l lw 2 dt 2 t 'xpush COMMIT -> ack recorded'"
                  % (tag, R.get(pfx + "b2_rate", "?"))).replace("{p}", pfx)
        svg = gnuplot(out, pfx + "b2_latency", script, {"_br": cdf(br), "_xr": cdf(xr), "_xa": cdf(xa)})
        if svg:
            md.append("![B2%s latency CDF](%s)\n" % (tag, svg))
        pgss_table(raw, R, md, pfx + "b2", "xpush's part of B2")


def pgss_table(raw, R, md, name, what):
    """The statements of one phase by Postgres execution time (scripts/bench pgss_dump)."""
    pgss = rows(os.path.join(raw, name + "_pgss.txt"), sep="\t")
    pushes = float(R.get(name + "_pgss_pushes", 0) or 0)
    if not (pgss and pushes):
        return
    md.append("pg_stat_statements over %s (%s pushes; `track = all`, so the statements inside "
              "`push.fanout_devices()` appear beside the call that runs them and their time is "
              "counted twice): the statements by total execution time.\n" % (what, fmt(pushes, 0)))
    md.append("| total ms | us per push | calls | rows | statement |")
    md.append("|---|---|---|---|---|")
    for x in pgss[:10]:
        if len(x) < 5:
            continue
        q = re.sub(r"\s+", " ", x[4])[:110].replace("|", "\\|")
        md.append("| %s | %s | %s | %s | `%s` |" % (fmt(float(x[0]), 0),
                  fmt(float(x[0]) * 1000 / pushes, 1), x[1], x[2], q))
    md.append("")


def report(raw, out):
    meta = meta_file(os.path.join(raw, "meta.env"))
    R = kv_file(os.path.join(raw, "results.env"))
    md = []
    summary = []
    plots = {}

    b1_rate = section_b1(raw, out, meta, R, summary, md)
    section_b2(raw, out, meta, R, summary, md)
    if os.path.exists(os.path.join(raw, "pin_b1_base_1.txt")):
        section_b1(raw, out, meta, R, summary, md, "pin_", "Prosody, pinned")
        section_b2(raw, out, meta, R, summary, md, "pin_", "Prosody, pinned")

    # B3
    if "b3_notrigger_c1_tps" in R:
        md.append("## B3: producer INSERT rate with and without xpush's trigger\n")
        md.append("pgbench, `-M prepared`, one single-row INSERT per transaction (a target nobody "
                  "registered), %s s per run after a CHECKPOINT, two rounds with the configurations "
                  "alternating, each figure the better of its two runs; xpushd stopped for the first "
                  "four columns. *busy*: "
                  "trigger on, `push.wakeup.listening = false` (xpushd working: no NOTIFY). *stopped*: "
                  "trigger on, `listening = true` but its lease (`listening_until`) has run out, as "
                  "after an idle xpushd stopped or crashed: no NOTIFY. *idle*: trigger on, `listening = "
                  "true` with no lease, so every commit NOTIFYs and takes NOTIFY's cluster-wide commit "
                  "lock: the cost the flag exists to avoid (a running xpushd is idle only while no "
                  "producer commits; the first NOTIFY makes it busy). *xpushd running*: trigger on, "
                  "xpushd connected (scanning every 100 ms by itself) with devices online, fanning "
                  "each row out and setting the flag itself; its reference is the same with the "
                  "trigger disabled. The goal figure is the worst of busy, stopped and running.\n"
                  % meta_num(meta, "b3_seconds"))
        md.append("| producers | no trigger tps | busy tps (ratio) | stopped tps (ratio) | idle tps (ratio) | xpushd running, no trigger | xpushd running, trigger (ratio) |")
        md.append("|---|---|---|---|---|---|---|")
        worst = None
        for c in ("1", "16"):
            g = lambda k: float(R.get("b3_%s_c%s_tps" % (k, c), "nan"))
            nt, busy, stopped, idle = g("notrigger"), g("busy"), g("stopped"), g("idle")
            rnt, run = g("running_notrigger"), g("running")
            md.append("| %s | %s | %s (%.2f) | %s (%.2f) | %s (%.2f) | %s | %s (%.2f) |" % (
                c, fmt(nt, 0), fmt(busy, 0), busy / nt, fmt(stopped, 0), stopped / nt,
                fmt(idle, 0), idle / nt, fmt(rnt, 0), fmt(run, 0), run / rnt))
            for name, val in (("busy", busy / nt), ("stopped", stopped / nt), ("running", run / rnt)):
                if val == val and (worst is None or val < worst[1]):
                    worst = (name + ", %s producer%s" % (c, "" if c == "1" else "s"), val)
        md.append("")
        idle16 = g("idle") / g("notrigger")
        summary.append(("B3", "INSERT rate with trigger / without (worst of busy, stopped, xpushd running; 1 and 16 producers)",
                        "%.2f (%s); NOTIFY on every commit: %.2f at 16" % (worst[1], worst[0], idle16),
                        ">= 0.8", verdict(worst[1] >= 0.8)))

    # B4
    if "b4_xpushd_rss_idle_kib" in R:
        idle = int(R["b4_xpushd_rss_idle_kib"])
        n1 = int(meta_num(meta, "b1_devices"))
        k1 = int(R.get("b4_xpushd_rss_b1_kib", 0))
        big = [k for k in R if re.match(r"b4_xpushd_rss_\d+_kib$", k)]
        kmax = int(R[big[0]]) if big else 0
        nbig = int(re.findall(r"\d+", big[0])[1]) if big else 0
        b6reg = int(R.get("b6_registered", 0))
        after = int(R.get("b4_xpushd_rss_after_b6_kib", 0))
        per1k = (k1 - idle) * 1024 / n1
        perbig = (kmax - idle) * 1024 / nbig if nbig else float("nan")
        peroff = (after - idle) * 1024 / b6reg if b6reg else float("nan")
        summary.append(("B4", "xpushd RSS per online device at %s / %s (bytes)" % (fmt(n1, 0), fmt(nbig, 0)),
                        "%s / %s" % (fmt(per1k, 0), fmt(perbig, 0)), "<= 2048",
                        verdict(max(per1k, perbig) <= 2048)))
        md.append("## B4: memory\n")
        md.append("xpushd keeps no per-device state in memory (the roster and the ledger live in "
                  "Postgres), so its resident size is measured directly: a fresh xpushd with nobody "
                  "online, then with %s and %s devices online that each acked one push, then after "
                  "B6's broadcast to %s registered devices.\n" % (fmt(n1, 0), fmt(nbig, 0), fmt(b6reg, 0)))
        md.append("| xpushd | RSS KiB | per device, bytes |")
        md.append("|---|---|---|")
        md.append("| fresh, nobody online | %s | |" % fmt(idle, 0))
        md.append("| %s online | %s | %s |" % (fmt(n1, 0), fmt(k1, 0), fmt(per1k, 0)))
        md.append("| %s online | %s | %s |" % (fmt(nbig, 0), fmt(kmax, 0), fmt(perbig, 0)))
        md.append("| after the broadcast, %s registered | %s | %s per registered device |" % (fmt(b6reg, 0), fmt(after, 0), fmt(peroff, 1)))
        md.append("")
        if "b4_client_rss_kib" in R:
            md.append("libxpush, one `xpush-client` connection (logged in over TLS, registered, one "
                      "push displayed and acked): process RSS %s KiB, of which anonymous %s KiB; "
                      "peak heap under massif %s KiB (libxpush + libstrophe + OpenSSL + expat).\n"
                      % (R.get("b4_client_rss_kib"), R.get("b4_client_anon_kib"), R.get("b4_client_heap_peak_kib", "n/a")))

    # B5
    led5 = ledger(os.path.join(raw, "b5.ledger"))
    if led5 and b1_rate:
        t_rc = int(R["b5_reconnect_ns"])
        acked = sorted(x["acked"] for x in led5 if x["acked"])
        online = sorted(int(x[0]) for x in rows(os.path.join(raw, "b5_recv.txt")) if x[1] == "o")
        n = len(acked)
        rate_rc = n / ((acked[-1] - t_rc) / 1e9)
        first_on = online[0] if online else t_rc
        last_on = online[-1] if online else t_rc
        rate_on = n / ((acked[-1] - first_on) / 1e9)
        summary.append(("B5", "backlog drain rate / B1 rate (%s pending, %s devices reconnect together)"
                        % (fmt(n, 0), meta_num(meta, "b1_devices")),
                        "%s / %s = **%.2f** (%.2f from the first login)" % (fmt(rate_rc, 0), fmt(b1_rate, 0),
                                                                         rate_rc / b1_rate, rate_on / b1_rate),
                        ">= 0.8", verdict(rate_rc / b1_rate >= 0.8)))
        md.append("## B5: backlog drain\n")
        md.append("The %s devices log out; %s notifications are enqueued and fanned out while they "
                  "are offline; then all of them reconnect at once (the simulator keeps 64 logins "
                  "in progress). Logins took %.1f s (first device online %.2f s after the reconnect "
                  "started, last %.2f s); the last ack was recorded %.2f s after the reconnect "
                  "started.\n" % (meta_num(meta, "b1_devices"), fmt(n, 0), (last_on - first_on) / 1e9,
                                  (first_on - t_rc) / 1e9, (last_on - t_rc) / 1e9, (acked[-1] - t_rc) / 1e9))
        md.append("| drain rate | per second | / B1 rate |")
        md.append("|---|---|---|")
        md.append("| from the reconnect | %s | %.2f |" % (fmt(rate_rc, 0), rate_rc / b1_rate))
        md.append("| from the first device online | %s | %.2f |" % (fmt(rate_on, 0), rate_on / b1_rate))
        md.append("| resends (attempts > 1) | %d | |" % sum(1 for x in led5 if x["attempts"] > 1))
        md.append("")
        svg = gnuplot(out, "b5_drain",
                      "set title 'B5: backlog drain after a reconnect of all devices'\nset xlabel 'seconds since reconnect'\n"
                      "set ylabel 'acked'\nset y2label 'devices online'\nset y2tics\nset ytics nomirror\n"
                      "plot 'b5_drain_a.dat' w l lw 2 t 'acked', 'b5_drain_o.dat' axes x1y2 w l lw 2 t 'devices online'",
                      {"_a": cumulative(acked, t_rc), "_o": cumulative(online, t_rc)})
        if svg:
            md.append("![B5 drain](%s)\n" % svg)

    # B6
    led6 = ledger(os.path.join(raw, "b6.ledger"))
    prod6 = rows(os.path.join(raw, "b6_prod.txt"))
    if led6 and prod6:
        c = int(prod6[0][3])
        acked = sorted(x["acked"] for x in led6 if x["acked"])
        t_all = (acked[-1] - c) / 1e9
        fan = (int(R.get("b6_fanout_done_ns", c)) - c) / 1e9
        summary.append(("B6", "broadcast to %s registered (%s online): COMMIT -> all online acked"
                        % (fmt(int(R.get("b6_registered", 0)), 0), fmt(int(R.get("b6_online", 0)), 0)),
                        "%.2f s" % t_all, "report", verdict(None)))
        md.append("## B6: broadcast\n")
        md.append("One INSERT with `broadcast = true` for app `bench`: %s registered devices, %s of "
                  "them online (the offline ones were written to `push.devices` by SQL).\n"
                  % (fmt(int(R.get("b6_registered", 0)), 0), fmt(int(R.get("b6_online", 0)), 0)))
        md.append("| | seconds after COMMIT |")
        md.append("|---|---|")
        md.append("| first device acked | %.3f |" % ((acked[0] - c) / 1e9))
        md.append("| half of the online devices acked | %.3f |" % ((acked[len(acked) // 2] - c) / 1e9))
        md.append("| all %s online devices acked | **%.3f** |" % (fmt(len(acked), 0), t_all))
        md.append("| fan-out finished (%s ledger rows) | %.3f |" % (fmt(int(R.get("b6_target_count", 0)), 0), fan))
        md.append("")
        md.append("xpushd CPU for the broadcast %s ms, Postgres %s ms.\n" % (R.get("b6_xpushd_cpu_ms", "?"), R.get("b6_postgres_cpu_ms", "?")))
        svg = gnuplot(out, "b6_broadcast",
                      "set title 'B6: broadcast, online devices acked over time'\nset xlabel 'seconds since COMMIT'\n"
                      "set ylabel 'acked'\nplot 'b6_broadcast_a.dat' w l lw 2 t 'acked'",
                      {"_a": cumulative(acked, c)})
        if svg:
            md.append("![B6 broadcast](%s)\n" % svg)

    # B7
    b1 = b1_rounds(raw)
    if b1 and "xpushd_cpu_ms" in b1[0]:
        n = sum(r.get("xp_n", 0) for r in b1)
        per = lambda k: sum(r.get(k, 0) for r in b1) * 1000.0 / n
        bn = sum(r["base_n"] for r in b1)
        bper = lambda k: sum(r.get(k, 0) for r in b1) * 1000.0 / bn
        ir = None
        top_cg = []
        cg = os.path.join(raw, "b7_callgrind.txt")
        if os.path.exists(cg):
            txt = open(cg).read()
            m = re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", txt, re.M) or \
                re.search(r"^([\d,]+)\s+PROGRAM TOTALS", txt, re.M)
            if m and R.get("b7_callgrind_pushes"):
                ir = int(m.group(1).replace(",", "")) / int(R["b7_callgrind_pushes"])
            sect = txt.split("file:function", 1)[-1] if "file:function" in txt else ""
            for line in sect.splitlines():
                mm = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+)", line)
                if mm:
                    fn = mm.group(3)
                    if ":" in fn:  # file:function -> basename:function
                        f_, _, name = fn.rpartition(":")
                        fn = "%s:%s" % (os.path.basename(f_), name)
                    top_cg.append((mm.group(2), fn))
                if len(top_cg) == 5:
                    break
        summary.append(("B7", "xpushd CPU per delivered push (instructions per push)",
                        "%s us (%s instr.)" % (fmt(per("xpushd_cpu_ms"), 1), fmt(ir, 0) if ir else "n/a"),
                        "report", verdict(None)))
        md.append("## B7: CPU per push and hot spots\n")
        md.append("CPU time (user + system, from /proc) per delivered push during B1's xpush rounds, "
                  "and per message during its baseline rounds:\n")
        md.append("| process | xpush, us per push | baseline, us per message |")
        md.append("|---|---|---|")
        md.append("| xpushd | %s | |" % fmt(per("xpushd_cpu_ms"), 1))
        md.append("| Postgres (whole cluster) | %s | |" % fmt(per("postgres_cpu_ms"), 1))
        md.append("| Prosody | %s | %s |" % (fmt(per("prosody_cpu_ms"), 1), fmt(bper("base_prosody_cpu_ms"), 1)))
        md.append("| device simulator | %s | %s |" % (fmt(per("devsim_cpu_ms"), 1), fmt(bper("base_devsim_cpu_ms"), 1)))
        md.append("")
        if ir:
            md.append("callgrind: **%s instructions per push** in xpushd (%s pushes, collection on "
                      "only while they were delivered; includes libpq, expat, libc). Top 5 functions "
                      "by own instructions:\n" % (fmt(ir, 0), R.get("b7_callgrind_pushes")))
            md.append("| share | function |")
            md.append("|---|---|")
            for share, fn in top_cg:
                md.append("| %s%% | `%s` |" % (share, fn))
            md.append("")
        for fname, who in (("b7_perf_top.txt", "xpushd"),
                           ("b7_perf_pg_top.txt", "xpushd's Postgres backend")):
            pt = os.path.join(raw, fname)
            if not (os.path.exists(pt) and os.path.getsize(pt)):
                continue
            lines = [l.rstrip() for l in open(pt)]
            user = [l for l in lines if not l.startswith("kernel")][:5]
            kern = [l for l in lines if l.startswith("kernel")]
            md.append("perf, cpu-clock samples of %s during one B1-sized xpush round: top 5 "
                      "user-space symbols by own samples (%s):\n" % (who, kern[0] if kern else ""))
            md.append("```")
            md.extend(user)
            md.append("```\n")
        pgss_table(raw, R, md, "b7", "the same round")

    # B7's Postgres statement time per push, and B10: that over the floor
    pg_us = float(R.get("b7_pg_us_per_push", "nan") or "nan")
    if pg_us == pg_us:
        summary.append(("B7 Postgres", "Postgres statement time per delivered push (top-level "
                        "statements of xpushd and the bulk producer, pg_stat_statements)",
                        "%s us" % fmt(pg_us, 1), "<= 60 us", verdict(pg_us <= 60)))
    floor_us = float(R.get("b10_pg_us_per_push", "nan") or "nan")
    if floor_us == floor_us and floor_us > 0:
        md.append("## B10: xpush's Postgres work over the floor\n")
        md.append("The floor is the cheapest durable work per push Postgres can do on this machine: "
                  "one INSERT per 1,000 messages and one UPDATE per 1,000 acks into a plain table "
                  "with a primary key, each its own transaction (`synchronous_commit` on). "
                  "Statement time per push: floor %s us, xpush (B7's round) %s us.\n"
                  % (fmt(floor_us, 2), fmt(pg_us, 1)))
        if pg_us == pg_us:
            summary.append(("B10", "Postgres statement time per push / the floor on this machine "
                            "(batched INSERT + batched ack UPDATE)",
                            "%s / %s = **%.1f**" % (fmt(pg_us, 1), fmt(floor_us, 2), pg_us / floor_us),
                            "<= 1.5", verdict(pg_us / floor_us <= 1.5)))

    # B11: xpushd's statements replayed, Postgres backend CPU per push
    cpu = float(R.get("b11_cpu_us_per_push", "nan") or "nan")
    cpu_floor = float(R.get("b11_floor_cpu_us", "nan") or "nan")
    if cpu == cpu:
        md.append("## B11: Postgres CPU per push, xpushd's statements replayed\n")
        md.append("bench/pgreplay runs the producer's 1,000-row INSERTs and xpushd's own prepared "
                  "statements (fan-out, claim, ack batch; component/store_sql.c) on one connection, "
                  "without XMPP, each batch acked at once, and the floor's statements likewise; the "
                  "figure is that backend's CPU time, which a busy machine inflates far less than "
                  "statement wall time (median of 3 runs).\n")
        md.append("| part | CPU us per push |")
        md.append("|---|---:|")
        for k, label in (("insert", "producer INSERT"), ("fanout", "fan-out (push.fanout_send)"),
                         ("claim", "claim of the devices the fan-out named"), ("ack", "ack batch")):
            md.append("| %s | %s |" % (label, R.get("b11_%s_cpu_us" % k, "?")))
        md.append("| **total** | **%s** |" % fmt(cpu, 1))
        md.append("| the floor | %s |\n" % R.get("b11_floor_cpu_us", "?"))
        md.append("Rows sent by the fan-out itself: %s; claimed: %s.\n"
                  % (R.get("b11_sent_by_fanout", "?"), R.get("b11_claimed", "?")))
        if R.get("b11_broadcast_rows_per_s"):
            md.append("One broadcast to %s registered devices, fanned out 1,000 devices a call: "
                      "%s s, **%s ledger rows/s**, %s us of CPU per row.\n"
                      % (R.get("b11_broadcast_devices", "?"), R.get("b11_broadcast_s", "?"),
                         R.get("b11_broadcast_rows_per_s", "?"),
                         R.get("b11_broadcast_cpu_us_per_row", "?")))
        if cpu_floor == cpu_floor and cpu_floor > 0:
            summary.append(("B11", "Postgres CPU per push of xpushd's statements replayed / the "
                            "floor's (bench/pgreplay)",
                            "%s / %s = **%.1f**" % (fmt(cpu, 1), fmt(cpu_floor, 2), cpu / cpu_floor),
                            "-", "-"))

    # The same B1 and B2 through ejabberd (scripts/bench --ejabberd)
    if os.path.exists(os.path.join(raw, "ej_b1_base_1.txt")):
        md.append("## ejabberd\n")
        md.append("B1 and B2 again with ejabberd %s as the XMPP server (the same devices, created by "
                  "in-band registration; the same xpushd and Postgres).\n" % meta.get("ejabberd", "?"))
        section_b1(raw, out, meta, R, summary, md, "ej_", "ejabberd")
        section_b2(raw, out, meta, R, summary, md, "ej_", "ejabberd")
        if os.path.exists(os.path.join(raw, "ej_pin_b1_base_1.txt")):
            section_b1(raw, out, meta, R, summary, md, "ej_pin_", "ejabberd, pinned")
            section_b2(raw, out, meta, R, summary, md, "ej_pin_", "ejabberd, pinned")

    # Accounts and logins
    if "accounts_files_ms_each" in R:
        md.append("## Set-up: creating accounts and logging in\n")
        md.append("| way to create an account | ms each |")
        md.append("|---|---|")
        md.append("| `prosodyctl register` (what stack_add_user does) | %s |" % R.get("accounts_prosodyctl_ms_each"))
        md.append("| in-band registration (XEP-0077) by the simulator, incl. TLS and login | %s |" % R.get("accounts_ibr_ms_each"))
        md.append("| Prosody's account files written directly (bench/mkaccounts.py), **used** | %s |" % R.get("accounts_files_ms_each"))
        md.append("")
        md.append("Logins (TLS, SASL PLAIN with Prosody's 10,000 PBKDF2 iterations, bind, xpush "
                  "register and presence): %s/s for the first 1,000 devices%s.\n"
                  % (R.get("login_rate_per_s", "?"),
                     ", %s/s for the next ones" % R["b6_login_rate"] if "b6_login_rate" in R else ""))

    head = ["# xpush benchmarks: latest results\n",
            "Produced by `%s` (the numbers below come from that command; see docs/benchmarks.md)." % meta.get("command", "scripts/bench"),
            "",
            "| | |", "|---|---|",
            "| date | %s |" % meta.get("date", "?"),
            "| git commit | %s |" % meta.get("commit", "?"),
            "| CPU | %s, %s cores, %s GiB RAM |" % (meta.get("cpu", "?"), meta.get("cores", "?"), meta.get("mem_gib", "?")),
            "| system | %s, kernel %s |" % (meta.get("os", "?"), meta.get("kernel", "?")),
            "| Prosody | %s (Lua %s) |" % (meta.get("prosody", "?"), meta.get("lua", "?")),
            "| PostgreSQL | %s |" % meta.get("postgres", "?"),
            "| libstrophe | %s (libxpush; the simulator speaks XMPP itself) |" % meta.get("libstrophe", "?"),
            "| OpenSSL | %s |" % meta.get("openssl", "?"),
            "| load average at start / end | %s / %s |" % (meta.get("loadavg_start", "?"), meta.get("loadavg_end", "?")),
            "",
            "Everything (Postgres, Prosody, xpushd, the simulated devices, the producers) shares this "
            "machine, so each figure is a ratio to a baseline measured in the same run, on the same "
            "devices and the same Prosody. B1 and B2 are measured twice: on shared cores, and "
            "*pinned*: the XMPP server alone on core 0 in both the baseline and the xpush run, "
            "everything else on the other cores (`taskset`), as a deployment gives the server a "
            "core of its own. The goals of B1 and B2 are for the pinned run.",
            "",
            "## Summary\n",
            "| | figure | result | goal | |",
            "|---|---|---|---|---|"]
    for s in summary:
        head.append("| %s | %s | %s | %s | %s |" % s)
    head.append("")
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write("\n".join(head + md) + "\n")
    shutil.copy(os.path.join(raw, "results.env"), os.path.join(out, "latest.env"))
    return 0


def meta_num(meta, key):
    for k, v in meta.items():
        for m in re.finditer(r"(\w+)=(\S+)", k + "=" + v):
            if m.group(1) == key:
                return m.group(2)
    return "?"


def update_docs(latest, docs):
    """Put LATEST (a results file) between the result markers of DOCS, headings one level
    down and image links relative to docs/."""
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    text = open(docs).read()
    if begin not in text or end not in text:
        sys.stderr.write("analyze: %s has no %s ... %s markers\n" % (docs, begin, end))
        return 1
    rel = os.path.relpath(os.path.dirname(os.path.abspath(latest)), os.path.dirname(os.path.abspath(docs)))
    body = []
    for line in open(latest).read().splitlines():
        if line.startswith("#"):
            line = "#" + line
        line = re.sub(r"\]\(([^)/]+\.svg)\)", lambda m: "](%s/%s)" % (rel, m.group(1)), line)
        body.append(line)
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(docs, "w") as f:
        f.write(head + begin + "\n" + "\n".join(body) + "\n" + end + tail)
    return 0


def main():
    if len(sys.argv) in (3, 4) and sys.argv[1] == "b1-rate":
        r = b1_rounds(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else "")
        print("%.1f" % mean([x.get("xp_rate", float("nan")) for x in r]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        return report(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "docs":
        return update_docs(sys.argv[2], sys.argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
