"""What a run found: the bar, the failures that fail it, a table, JSON and docs/performance.md."""

import json
from pathlib import Path

from .infra import RESULTS, ROOT

# Correctness, never timing: any of these fails the run (and CI).
FAILING = {
    "lost",
    "duplicated",
    "duplicate_frames",
    "reordered",
    "gaps",
    "history_gaps",
    "missing_ids",
    "mismatched",
    "askers_lost",
    "askers_not_queued",
    "askers_taken_twice",
    "fifo_inversions",
    "replacement_not_taken",
}
FAILING_EVENTS = ("chat_taken_twice", "helper_got_unknown_chat", "client_error")
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _scenario_issues(results: dict):
    """(label, issues dict) of every scenario part that checks messages."""
    scenarios = results["scenarios"]
    for name, value in scenarios.items():
        if not isinstance(value, dict):
            continue
        if "issues" in value:
            yield name, value["issues"]
        for part, inner in value.items():
            if isinstance(inner, dict) and "issues" in inner:
                yield f"{name}.{part}", inner["issues"]


def failures(results: dict) -> list[str]:
    found = list(results.get("crashes", []))
    for label, issues in _scenario_issues(results):
        bad = {k: v for k, v in issues.items() if k in FAILING and v}
        if bad:
            found.append(f"{label}: {bad}")
    for event, count in results.get("events", {}).items():
        if event.startswith(FAILING_EVENTS) and count:
            found.append(f"client event {event!r} x{count}")
    return found


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def bar(results: dict) -> list[dict]:
    """The issue's bar, measured (never asserted)."""
    s = results["scenarios"]
    rows = []

    def add(what, target, measured, met):
        rows.append({"what": what, "target": target, "measured": measured, "met": met})

    steady = s.get("steady", {})
    if "product" in steady and "relay" in steady:
        ratio = _ratio(steady["product"]["p99_ms"], steady["relay"]["p99_ms"])
        add("steady p99 vs bare relay p99", "≤ 3×", ratio, ratio is not None and ratio <= 3)
    if "product" in steady:
        kib = steady["product"]["rss_kib_per_chat"]
        add("RSS per open chat", "≤ 64 KiB", kib, kib <= 64)
    ceiling = s.get("ceiling", {})
    if "product" in ceiling and "relay" in ceiling:
        ratio = _ratio(
            ceiling["product"]["sustained_msgs_per_s"], ceiling["relay"]["sustained_msgs_per_s"]
        )
        add("ceiling msgs/s vs bare relay (one process each)", "≥ 0.5×", ratio, (ratio or 0) >= 0.5)
    if "burst" in s:
        b = s["burst"]
        queued = b["all_queued_s"]
        add(
            f"burst: all {b['askers']} queued",
            "≤ 2 s",
            queued,
            queued is not None and queued <= 2,
        )
        exact = b["positions_exact"] and b["fifo_inversions"] == 0
        add("burst: positions exact, FIFO exact", "yes", exact, exact)
    if "faults" in s:
        f = s["faults"]
        bad = sum(v for k, v in f["issues"].items() if k in FAILING)
        add("faults: messages lost, duplicated or out of order", "0", bad, bad == 0)
        worst = max(
            (d["recovery_max_s"] for d in f["faults"].values() if d["recovery_max_s"] is not None),
            default=None,
        )
        unrecovered = sum(d["not_recovered_in_30s"] for d in f["faults"].values())
        add(
            "faults: every chat working again after the fault",
            "≤ 5 s",
            worst,
            worst is not None and worst <= 5 and unrecovered == 0,
        )
    if "soak" in s:
        k = s["soak"]
        growth = k["rss_growth_after_warmup_pct"]
        add("soak: RSS growth after warm-up", "≤ 5 %", growth, growth is not None and growth <= 5)
        after = k["after_close"]
        leaked = (
            after["rows"]["chat"]
            + after["rows"]["message"]
            + after["rows"]["dutysession_connected"]
        )
        add("soak: chat/message/on-duty rows left after all closed", "0", leaked, leaked == 0)
    return rows


# --- Output --------------------------------------------------------------------------------------


def _fmt(value):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table(results: dict) -> str:
    s = results["scenarios"]
    lines = []

    def row(*cells):
        lines.append("  ".join(f"{_fmt(c):>{w}}" for c, w in zip(cells, WIDTHS, strict=False)))

    WIDTHS = (34, 8, 9, 9, 9, 9, 9, 9)
    row("scenario", "chats", "p50 ms", "p99 ms", "max ms", "msgs/s", "cpu", "RSS MiB")
    for kind, r in s.get("steady", {}).items():
        row(
            f"steady {kind}",
            r["chats"],
            r["p50_ms"],
            r["p99_ms"],
            r["max_ms"],
            r["msgs_per_s"],
            r["cpu"]["server"],
            r["rss_mib"],
        )
    for kind, r in s.get("ceiling", {}).items():
        step = r.get("at_step") or {}
        row(
            f"ceiling {kind} (p99 ≤ 100 ms)",
            r["chats"],
            step.get("p50_ms"),
            step.get("p99_ms"),
            step.get("max_ms"),
            r["sustained_msgs_per_s"],
            (step.get("cpu") or {}).get("server"),
            "",
        )
    if "faults" in s:
        r = s["faults"]
        row(
            "faults (whole span)",
            r["chats"],
            r["p50_ms"],
            r["p99_ms"],
            r["max_ms"],
            r["msgs_per_s"],
        )
        for name, d in r["faults"].items():
            lines.append(
                f"    {name}: recovery p50 {_fmt(d['recovery_p50_s'])} s, max "
                f"{_fmt(d['recovery_max_s'])} s, over 5 s: {d['over_5s']}, "
                f"not recovered: {d['not_recovered_in_30s']}"
            )
    if "burst" in s:
        r = s["burst"]
        lines.append(
            f"burst: {r['askers']} askers on 2 processes, all queued in "
            f"{_fmt(r['all_queued_s'])} s "
            f"(start→queued p99 {_fmt(r['start_to_queued']['p99_ms'])} ms); positions exact "
            f"{r['positions_exact']}; FIFO inversions {r['fifo_inversions']}; "
            f"{_fmt(r['takes_per_s'])} takes/s"
        )
    if "soak" in s:
        r = s["soak"]
        lines.append(
            f"soak: {r['minutes']} min, RSS growth after warm-up "
            f"{_fmt(r['rss_growth_after_warmup_pct'])} %, {r['retired_chats']} chats ended and "
            f"replaced; after close {r['after_close']['rows']}"
        )
    if results.get("bar"):
        lines.append("")
        lines.append("bar:")
        for item in results["bar"]:
            mark = "ok " if item["met"] else "NOT"
            lines.append(
                f"  [{mark}] {item['what']}: {_fmt(item['measured'])} (target {item['target']})"
            )
    lines.append("")
    lines.append(f"issues: {[f'{k}: {v}' for k, v in _scenario_issues(results) if v] or 'none'}")
    fails = results.get("failures", [])
    lines.append(
        "FAILED: " + "; ".join(fails) if fails else "no message lost, duplicated or reordered"
    )
    return "\n".join(lines)


def write_json(results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "quick" if results["quick"] else "full"
    path = RESULTS / f"{kind}-{results['started'].replace(':', '').replace('-', '')[:15]}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return path


def write_docs(results: dict, json_path: Path):
    """docs/performance.json (the last full run) and the figures part of docs/performance.md."""
    slim = json.loads(json.dumps(results, default=str))
    (ROOT / "docs" / "performance.json").write_text(json.dumps(slim, indent=1, ensure_ascii=False))
    section = f"{BEGIN}\n{markdown(results)}\n{END}"
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text += "\n" + section + "\n"
    DOC.write_text(text)


def markdown(results: dict) -> str:
    m = results["machine"]
    s = results["scenarios"]
    out = [
        f"Run {results['started']} with `{results['command']}` "
        f"({round(results['duration_s'] / 60, 1)} min). Machine: {m['nproc']} cores "
        f"({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, Redis {m['redis']}, "
        f"Django {m.get('django')}, Channels {m.get('channels')}, channels-redis "
        f"{m.get('channels_redis')}, daphne {m.get('daphne')}; load average at the start "
        f"{m['load_average_at_start']}.",
        "",
        "| bar | target | measured | met |",
        "|---|---|---|---|",
    ]
    for item in results.get("bar", []):
        out.append(
            f"| {item['what']} | {item['target']} | {_fmt(item['measured'])} | "
            f"{'yes' if item['met'] else '**no**'} |"
        )
    if "steady" in s:
        out += [
            "",
            "Steady load (each side writes every 2–5 s; latency is send → the other side's "
            "receipt; cpu in cores):",
            "",
            "| | chats | p50 ms | p99 ms | max ms | msgs/s | server cpu | redis cpu | "
            "generator cpu | machine busy | RSS MiB | KiB/chat |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        relay = s["steady"].get("relay")
        for kind, r in s["steady"].items():
            out.append(
                f"| {kind} | {r['chats']} | {_fmt(r['p50_ms'])} | {_fmt(r['p99_ms'])} | "
                f"{_fmt(r['max_ms'])} | {r['msgs_per_s']} | {r['cpu']['server']} | "
                f"{r['cpu']['redis']} | {r['cpu']['generator']} | {r['machine_busy_cores']} | "
                f"{r['rss_mib']} | {r['rss_kib_per_chat']} |"
            )
        if relay and "product" in s["steady"]:
            p = s["steady"]["product"]
            out.append("")
            out.append(
                f"Product ÷ relay: p50 {_ratio(p['p50_ms'], relay['p50_ms'])}×, p99 "
                f"{_ratio(p['p99_ms'], relay['p99_ms'])}×, server cpu "
                f"{_ratio(p['cpu']['server'], relay['cpu']['server'])}×."
            )
    if "ceiling" in s:
        out += ["", "Ceiling (rate raised ×1.35 per step until p99 > 100 ms):", ""]
        for kind, r in s["ceiling"].items():
            steps = ", ".join(
                f"{st['msgs_per_s']}/s→p99 {_fmt(st['p99_ms'])} ms (cpu {st['cpu']['server']})"
                for st in r["steps"]
            )
            out.append(
                f"- {kind}: sustained **{r['sustained_msgs_per_s']} msgs/s** on one process "
                f"({r['chats']} chats){' — generator-bound' if r['generator_bound'] else ''}. "
                f"Steps: {steps}."
            )
        if "product" in s["ceiling"] and "relay" in s["ceiling"]:
            product = s["ceiling"]["product"]["sustained_msgs_per_s"]
            relay = s["ceiling"]["relay"]["sustained_msgs_per_s"]
            out.append(f"- product ÷ relay: {_ratio(product, relay)}×.")
    if "burst" in s:
        b = s["burst"]
        out += [
            "",
            f"Opening burst: {b['askers']} askers sent `start` within one second, alternating "
            f"between 2 processes. All had `queued` {_fmt(b['all_queued_s'])} s after the first "
            f"`start` (start→queued p50 {_fmt(b['start_to_queued']['p50_ms'])} ms, p99 "
            f"{_fmt(b['start_to_queued']['p99_ms'])} ms, "
            f"max {_fmt(b['start_to_queued']['max_ms'])} ms). "
            f"Positions in the `queued` answers exact: {b['first_answers_exact']}; after the "
            f"`position` updates: {b['positions_exact']}. Helpers took all of them "
            f"({b['takes_per_s']} takes/s) with {b['fifo_inversions']} FIFO inversions; "
            f"issues: {b['issues'] or 'none'}.",
        ]
    if "faults" in s:
        f = s["faults"]
        out += [
            "",
            f"Faults under steady load ({f['chats']} chats over 2 processes; recovery = until a "
            "message from each side of a chat, sent as soon as that side was back, reached the "
            "other side):",
            "",
            "| fault | recovery p50 s | max s | chats > 5 s | not recovered | errors seen |",
            "|---|---|---|---|---|---|",
        ]
        for name, d in f["faults"].items():
            out.append(
                f"| {name} | {_fmt(d['recovery_p50_s'])} | {_fmt(d['recovery_max_s'])} | "
                f"{d['over_5s']} | {d['not_recovered_in_30s']} | {d['errors'] or '–'} |"
            )
        out.append("")
        out.append(
            f"Over the whole span: p50 {_fmt(f['p50_ms'])} ms, p99 {_fmt(f['p99_ms'])} ms, "
            f"max {_fmt(f['max_ms'])} ms; {f['reconnected_sockets']} sockets reconnected "
            f"(longest outage {_fmt(f['outage_max_s'])} s); issues: {f['issues'] or 'none'}."
        )
    if "soak" in s:
        k = s["soak"]
        out += [
            "",
            f"Soak: {k['minutes']} minutes, {k['chats']} chats at a time, each ended by its helper "
            f"after 2–6 minutes and replaced ({k['retired_chats']} ended). RSS growth after "
            f"warm-up (minute 3 → last): {_fmt(k['rss_growth_after_warmup_pct'])} %. After every "
            f"socket closed: {k['after_close']['rows']}, {k['after_close']['pg_connections']} "
            f"PostgreSQL connections, {k['after_close']['sockets']} sockets open in daphne.",
            "",
            "| min | RSS MiB | fds | sockets | PG conns | redis clients | chats | messages | "
            "on duty | p99 ms | msgs/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for x in k["samples"]:
            out.append(
                f"| {x['minute']} | {x['rss_mib']} | {x['fds']} | {x['sockets']} | "
                f"{x['pg_connections']} | {x['redis']['clients']} | {x['rows']['chat']} | "
                f"{x['rows']['message']} | {x['rows']['dutysession_connected']} | "
                f"{_fmt(x['p99_ms'])} | {x['msgs_per_s']} |"
            )
    fails = results.get("failures", [])
    out += ["", f"Failures: {'; '.join(fails) if fails else 'none'}."]
    return "\n".join(out)
