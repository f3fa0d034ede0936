"""`python -m bench run [--quick] [--soak-minutes N] [--only steady,ceiling,burst,faults,soak]
[--faults redis_restart,helper_network,postgres_cut,daphne_sigkill]`.

Exit status: 0 when no message was lost, duplicated or reordered and no asker was lost or taken
twice (timings never fail a run); 1 otherwise, or when the benchmark could not run at all.
"""

import argparse
import asyncio
import resource
import shlex
import signal
import sys
import time
import traceback
from dataclasses import asdict, replace
from datetime import UTC, datetime

from . import report, scenarios
from .infra import log, machine


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start everything, measure, check, report")
    run.add_argument("--quick", action="store_true", help="about a minute: the CI check")
    run.add_argument("--soak-minutes", type=float, help="length of the soak (default 20)")
    run.add_argument(
        "--only", help="comma-separated scenarios: " + ",".join(scenarios.Config.scenarios)
    )
    run.add_argument(
        "--faults", help="comma-separated faults: " + ",".join(scenarios.Config.faults)
    )
    run.add_argument("--chats", type=int, help="chats in the steady, fault and soak scenarios")
    run.add_argument("--seconds", type=float, help="steady measurement window")
    run.add_argument("--db-options", help="query string for the servers' DATABASE_URL")
    run.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.*")
    args = parser.parse_args(argv)

    config = scenarios.Config.quick_run() if args.quick else scenarios.Config()
    if args.soak_minutes is not None:
        config = replace(config, soak_minutes=args.soak_minutes)
    if args.only:
        config = replace(config, scenarios=tuple(args.only.split(",")))
    if args.faults:
        config = replace(config, faults=tuple(args.faults.split(",")))
    if args.chats:
        config = replace(
            config,
            steady_chats=args.chats,
            fault_chats=args.chats,
            ceiling_chats=min(config.ceiling_chats, args.chats),
            helpers=max(config.burst_helpers, -(-args.chats // config.per_helper)),
        )
    if args.db_options:
        config = replace(config, db_options=args.db_options)
    if args.seconds:
        config = replace(config, steady_seconds=args.seconds)
    # SIGTERM (a CI timeout, `kill`) tears down like Ctrl-C: no daphne or redis-server is left.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Hundreds of sockets: lift the soft limit on open files as far as the hard one allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    results = {
        "command": command,
        "quick": config.quick,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": asdict(config),
        "scenarios": {},
        "crashes": [],
    }
    began = time.monotonic()
    try:
        asyncio.run(run_all(config, results))
    except KeyboardInterrupt:
        results["crashes"].append("interrupted")
    results["duration_s"] = round(time.monotonic() - began)
    results["bar"] = report.bar(results)
    results["failures"] = report.failures(results)
    path = report.write_json(results)
    print(report.table(results))
    print(f"\nJSON: {path}")
    full = not config.quick and set(config.scenarios) == set(scenarios.Config.scenarios)
    if full and not args.no_docs:
        report.write_docs(results, path)
        print("docs/performance.md and docs/performance.json updated")
    return 1 if results["failures"] else 0


async def run_all(config, results):
    run = scenarios.Run(config)
    out = results["scenarios"]
    try:
        await run.setup()
        wanted = {entry.partition(":")[0]: entry.partition(":")[2] for entry in config.scenarios}

        def kinds(name, every):
            return [kind for kind in every if wanted[name] in ("", kind)]

        plan = []
        if "steady" in wanted:
            kinds_ = kinds("steady", ("echo", "relay", "product"))
            plan += [("steady", kind, scenarios.steady, (kind,)) for kind in kinds_]
        if "ceiling" in wanted:
            kinds_ = kinds("ceiling", ("relay", "product"))
            plan += [("ceiling", kind, scenarios.ceiling, (kind,)) for kind in kinds_]
        for name in ("burst", "faults", "soak"):
            if name in wanted:
                plan.append((name, None, getattr(scenarios, name), ()))
        for name, part, function, args in plan:
            log(f"--- {name} {part or ''}")
            try:
                value = await function(run, *args)
            except Exception:
                trace = traceback.format_exc()
                log(trace)
                results["crashes"].append(f"{name} {part or ''} crashed: {trace.splitlines()[-1]}")
                value = None
            await run.close_clients()
            for process in list(run.processes):
                run.stop(process)
            leftovers = await run.clear_leftovers() if part in (None, "product") else None
            if value is None:
                continue
            if leftovers:
                value["leftover_rows"] = leftovers
            if part:
                out.setdefault(name, {})[part] = value
            else:
                out[name] = value
    except Exception:
        trace = traceback.format_exc()
        log(trace)
        results["crashes"].append(f"setup crashed: {trace.splitlines()[-1]}")
    finally:
        run.teardown()
        results["events"] = dict(run.recorder.events)
        results["errors"] = dict(run.recorder.errors)


if __name__ == "__main__":
    sys.exit(main())
