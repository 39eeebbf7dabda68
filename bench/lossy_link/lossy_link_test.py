#!/usr/bin/env python3
"""lossy_link's test: a ping and a TCP transfer across it meet the delay and the loss it was
asked for, and its counts say exactly which packets it dropped.

    lossy_link_test.py PROGRAM
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lossy_link  # found through the line above

DELAY_MS = 10
LOSS_PERCENT = 5
PINGS = 100


def check(condition, message):
    if not condition:
        sys.exit(f"lossy_link_test: {message}")


def main():
    program = sys.argv[1]
    impairment = ("--delay", str(DELAY_MS), "--loss", str(LOSS_PERCENT))
    with lossy_link.start(program, *impairment, duration=30) as link:
        a_path, b_path = link.a["path"], link.b["path"]
        rtts = lossy_link.ping(b_path, link.a["address"], PINGS)
    counts = link.counts
    print(f"ping's link: {counts}")
    check(not os.path.exists(a_path) and not os.path.exists(b_path),
          "the namespaces' names outlived the emulator")
    answered = [rtt for rtt in rtts if rtt is not None]
    low, median = min(answered) * 1000, statistics.median(answered) * 1000
    print(f"ping: {len(answered)} of {PINGS} answered, round trip min {low:.1f} ms, "
          f"median {median:.1f} ms")
    check(low >= 2 * DELAY_MS, f"a round trip of {low:.1f} ms, under twice the {DELAY_MS} ms delay")
    # Generous: the machine is shared, and a slow round trip only delays, it loses nothing.
    check(median < 2 * DELAY_MS + 30, f"a median round trip of {median:.1f} ms")
    # Only the pings crossed (b to a the requests, a to b the replies), and each unanswered one
    # lost exactly one of its two packets: the request, or the reply to it.
    check(counts["b_to_a"]["arrived"] == PINGS, f"{PINGS} requests sent, counted {counts}")
    dropped = counts["b_to_a"]["lost"] + counts["a_to_b"]["lost"]
    check(PINGS - len(answered) == dropped,
          f"{PINGS - len(answered)} pings unanswered, {dropped} packets dropped")
    check(0 < dropped < PINGS / 2, f"{dropped} of {PINGS} pings lost at {LOSS_PERCENT}% each way")
    for direction in ("a_to_b", "b_to_a"):
        count = counts[direction]
        check(count["arrived"] == count["lost"] + count["delivered"] and
              count["undeliverable"] == 0 and count["overflowed"] == 0, f"{direction}: {count}")

    with lossy_link.start(program, *impairment, duration=30) as link:
        tcp_rtt, retransmitted = lossy_link.tcp_transfer(link, 400_000)
    counts = link.counts
    print(f"TCP: round trip {tcp_rtt * 1000:.1f} ms, {retransmitted} segments retransmitted; "
          f"link: {counts}")
    check(tcp_rtt >= 2 * DELAY_MS / 1000, f"TCP measured a round trip of {tcp_rtt * 1000:.1f} ms")
    check(retransmitted > 0, "TCP retransmitted nothing through a lossy link")
    lost = counts["a_to_b"]["lost"] + counts["b_to_a"]["lost"]
    arrived = counts["a_to_b"]["arrived"] + counts["b_to_a"]["arrived"]
    check(0.5 * LOSS_PERCENT / 100 < lost / arrived < 2 * LOSS_PERCENT / 100,
          f"{lost} of {arrived} packets lost, asked for {LOSS_PERCENT}%")


if __name__ == "__main__":
    main()
