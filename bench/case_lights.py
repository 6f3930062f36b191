"""Supervision lights (红黄绿灯) recomputed for every open case, beside the slow path and a floor
measured in the same run. The issue's figure: light recomputation for 100,000 open cases completes
in under 1 s on 2 cores.

Method. 100,000 (``--quick`` 20,000) cases with seeded random facts: received at an instant of 2026
in Beijing time (three in four within working hours on a working day, the rest at any hour of any
day: nights, weekends, holidays), up to 31 October because chinese-calendar has no 2027 data and a
deadline must not fall in a year it cannot count; promised 1–20 working days; about one in five
paused for 补正 (a closed pause, an open one, or a closed one then another, closed or open); about
two in five in a stage with its own limit (working hours or working days, some with their own
rule). Every case's facts are fixed for the whole run, and a case received after ``now`` reads
green on every path.

1. Schedules: ``CaseTiming.of`` for every case (``schedule_for``: when the light turns yellow and
   red). Timed and printed on its own: it is paid once per case change, when the facts are written,
   not at recomputation.
2. Recomputation: ``recompute(cases, now)`` at several instants — spring, mid-year, the closing time
   on which most deadlines fall, and the year's last working hour — each twice: a scheduler's tick
   (stored lights as they were one minute earlier: few change) and a cold start (every stored light
   green: as many change as are not green). Median of 5 runs each; the changes are printed. As a
   diagnostic, the cold start again with the cyclic garbage collector paused during the call: the
   changes it allocates trigger collections that walk every live object of the process.
3. Baselines, same run: the slow path ``light_for`` (counts working time afresh per call) on a
   random sample of 2,000 cases at each instant, extrapolated per case to 100,000 (not measured at
   100,000); and the floor, a plain Python loop of one integer comparison per case (median of 5).
4. Check: on the 2,000-case sample, the lights ``recompute`` gives (its changes over the stored
   lights, both variants) equal ``light_for``'s at every instant. Exit status 1 if not.

Run from the repository root:

    python -m bench.case_lights            # 100,000 cases: about 15 s on 2 cores
    python -m bench.case_lights --quick    # 20,000 cases
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from bench.common import machine
from cases.case_model import Actor, Applicant, Case, CasesState, Stage
from cases.case_timing import RegisterSettings
from cases.catalog import Level
from cases.catalog_io import sample_catalog
from cases.deadlines import CHINA, DEFAULT_HOURS, SHANGHAI, Pause
from cases.lights import (
    NEVER,
    CaseClock,
    CaseTiming,
    CurrentStage,
    Light,
    LightRule,
    StageLimit,
    light_for,
    recompute,
)
from cases.register import Meta, Register
from cases.register import accept as register_accept
from cases.register import tick as register_tick
from hall.kernel.roles import Role

TARGET_CASES = 100_000
TARGET_SECONDS = 1.0
SAMPLE = 2_000
RUNS = 5
SEED = 20261129
FIRST_DAY = date(2026, 1, 1)
LAST_DAY = date(2026, 10, 31)  # chinese-calendar 1.11 knows 2026, not 2027: deadlines must end in 2026
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_US = 60_000_000

STAGES = (
    StageLimit("受理", working_hours=4),
    StageLimit("审查", working_days=3),
    StageLimit("现场核查", working_days=5, rule=LightRule(yellow_share=None, yellow_working_days=1)),
    StageLimit("决定", working_days=2),
    StageLimit("送达", working_hours=8, rule=LightRule(yellow_share=0.5)),
)


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


# -- the cases ----------------------------------------------------------------------------------


def received_at(rng: random.Random, working_days: list[date]) -> datetime:
    if rng.random() < 0.75:  # within working hours on a working day
        day = rng.choice(working_days)
        return datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI) + timedelta(seconds=rng.uniform(0, 8 * 3600))
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=SHANGHAI)
    span = (LAST_DAY - FIRST_DAY + timedelta(days=1)).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span))


def pauses_for(rng: random.Random, received: datetime) -> tuple[Pause, ...]:
    pick = rng.random()
    if pick >= 0.20:
        return ()
    start = received + timedelta(hours=rng.uniform(1, 20 * 24))
    if pick < 0.08:  # open: the materials have not arrived
        return (Pause(start, None, "补正"),)
    end = start + timedelta(hours=rng.uniform(2, 12 * 24))
    first = Pause(start, end, "补正")
    if pick < 0.17:
        return (first,)
    later = end + timedelta(hours=rng.uniform(1, 5 * 24))
    second = Pause(later, None if rng.random() < 0.5 else later + timedelta(hours=rng.uniform(2, 5 * 24)), "补正")
    return (first, second)


def build_cases(count: int, rng: random.Random) -> list[CaseClock]:
    working_days = [
        FIRST_DAY + timedelta(days=n)
        for n in range((LAST_DAY - FIRST_DAY).days + 1)
        if CHINA.is_working_day(FIRST_DAY + timedelta(days=n))
    ]
    cases = []
    for n in range(count):
        received = received_at(rng, working_days)
        stage = None
        if rng.random() < 0.4:
            stage = CurrentStage(rng.choice(STAGES), received + timedelta(hours=rng.uniform(0, 15 * 24)))
        cases.append(CaseClock(f"c{n:06d}", received, rng.randint(1, 20), pauses_for(rng, received), stage))
    return cases


# -- measuring ----------------------------------------------------------------------------------


def median_time(
    run: Callable[..., object], *args: object, runs: int = RUNS, no_gc: bool = False
) -> tuple[float, list[float]]:
    """Median and all times of ``runs`` calls; ``no_gc`` pauses the cyclic collector during each."""
    times = []
    for _ in range(runs):
        if no_gc:
            gc.disable()
        try:
            started = time.perf_counter()
            run(*args)
            times.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return statistics.median(times), times


def spread(times: Sequence[float]) -> str:
    return f"{min(times) * 1000:.1f}–{max(times) * 1000:.1f}"


def floor_loop(values: Sequence[int], at: int) -> int:
    """The floor: one integer comparison per case in a plain Python loop."""
    n = 0
    for value in values:
        if at >= value:
            n += 1
    return n


def busiest_deadline(timings: Sequence[CaseTiming]) -> datetime:
    """The instant on which most cases turn red (a closing time)."""
    counts = Counter(t.red_us for t in timings if t.red_us < NEVER)
    red_us, _ = counts.most_common(1)[0]
    return EPOCH + timedelta(microseconds=red_us)


def light_of(timing: CaseTiming, at: int) -> Light:
    if at >= timing.red_us:
        return Light.RED
    if at >= timing.yellow_us:
        return Light.YELLOW
    return Light.GREEN


def build_register(cases: Sequence[CaseClock], timings: Sequence[CaseTiming], at: int | None) -> Register:
    """The register the writer keeps, holding these cases with their schedules; stored lights as
    of ``at`` (None: every light green, a cold start)."""
    applicant = Applicant("王秀英", "11010519491231002X", "13800138000")
    records: dict[str, Case] = {}
    metas: dict[str, Meta] = {}
    for clock, timing in zip(cases, timings, strict=True):
        records[clock.case_id] = Case(
            number=clock.case_id,
            item="MZ-001",
            applicant=applicant,
            accepted_hall=3,
            deciding_hall=1,
            department="区民政局",
            stage=Stage.ACCEPTED,
            registered_by=1,
            accepted_at=clock.received_at,
            time_limit_days=clock.working_days,
            history=(),
        )
        light = Light.GREEN if at is None else light_of(timing, at)
        # Midway reminders all sent: the figure is the lights'; reminders are rarer still.
        metas[clock.case_id] = Meta(light=light, yellow_us=timing.yellow_us, red_us=timing.red_us, midway_sent=True)
    tree = CasesState(records, {1: None, 2: 1, 3: 2}, {1: Level.DISTRICT, 2: Level.STREET, 3: Level.COMMUNITY})
    return Register(root=1, cases=tree, meta=metas)


def register_ticks(
    cases: Sequence[CaseClock], timings: Sequence[CaseTiming], nows: Sequence[tuple[str, datetime]]
) -> int:
    """The production path: ``cases.register.tick``, the rule the writer runs on every clock tick,
    over the same cases; it also builds one event per change. Checked against ``recompute``."""
    catalog = sample_catalog().by_code
    settings = RegisterSettings()
    wrong = 0
    for label, now in nows:
        at = us(now)
        line = []
        for variant, stored_at in (("tick", at - MINUTE_US), ("cold", None)):
            reg = build_register(cases, timings, stored_at)
            elapsed, runs = median_time(register_tick, reg, now, settings, catalog)
            decided = register_tick(reg, now, settings, catalog)
            turned = {f.data["number"]: Light(f.data["light"]) for f in decided.facts if f.type == "case.light"}
            stored = [CaseTiming(t.case_id, t.yellow_us, t.red_us, reg.meta[t.case_id].light) for t in timings]
            if turned != dict(recompute(stored, now)):
                wrong += 1
            line.append(f"{variant} {elapsed * 1000:.1f} ms ({spread(runs)}), {len(turned):,} events")
        print(f"  register.tick {label}: " + "; ".join(line))
    return wrong


def register_step(cases: Sequence[CaseClock], timings: Sequence[CaseTiming]) -> None:
    """What one command costs the writer at this size: 受理 of one more case into the register
    (median of 21), beside the copy of a plain dict of the same size that each step made before
    the register's maps became persistent."""
    item = sample_catalog()["MZ-006"]
    clerk = Actor(1, frozenset({Role.CLERK}), 3)
    applicant = Applicant("王秀英", "11010519491231002X", "13800138000")
    materials = [m.name for m in item.required_materials]
    reg = build_register(cases, timings, None)
    settings = RegisterSettings()
    now = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    took, _ = median_time(
        lambda: register_accept(
            reg, item, clerk, now, applicant=applicant, hall=3, settings=settings, materials=materials
        ),
        runs=21,
    )
    plain = dict(reg.meta)
    copied, _ = median_time(lambda: (dict(plain), dict(plain)), runs=21)
    print(
        f"step      register accept of one case into {len(cases):,} open cases: {took * 1000:.2f} ms "
        f"(median of 21); baseline, copying two plain dicts of that size: {copied * 1000:.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 cases instead of 100,000")
    args = parser.parse_args()
    count = 20_000 if args.quick else TARGET_CASES
    rng = random.Random(SEED)
    print(f"bench/case_lights.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}")

    cases = build_cases(count, rng)
    paused = sum(1 for c in cases if c.pauses)
    open_pause = sum(1 for c in cases if any(p.is_open for p in c.pauses))
    staged = sum(1 for c in cases if c.stage is not None)
    off_hours = sum(
        1
        for c in cases
        if not (
            DEFAULT_HOURS.is_working_day(c.received_at.date())
            and DEFAULT_HOURS.opens <= c.received_at.time() < DEFAULT_HOURS.closes
        )
    )
    print(
        f"cases     {count:,} open cases received 2026-01-01..{LAST_DAY} (seed {SEED}), 1–20 working days; "
        f"{off_hours:,} received outside working hours, {paused:,} paused for 补正 ({open_pause:,} with an open "
        f"pause), {staged:,} with a current stage limit"
    )

    started = time.perf_counter()
    green = [CaseTiming.of(case) for case in cases]
    built = time.perf_counter() - started
    print(
        f"schedules CaseTiming.of for every case: {built:.2f} s = {built / count * 1e6:,.0f} µs a case "
        "(paid once per case change, when its facts are written; not part of recomputation)"
    )

    nows = [
        ("spring, 2026-04-15 11:00", datetime(2026, 4, 15, 11, tzinfo=SHANGHAI)),
        ("mid-year, 2026-07-01 10:30", datetime(2026, 7, 1, 10, 30, tzinfo=SHANGHAI)),
        ("busiest deadline", busiest_deadline(green)),
        ("year end, 2026-12-31 16:00", datetime(2026, 12, 31, 16, tzinfo=SHANGHAI)),
    ]
    sample = sorted(rng.sample(range(count), SAMPLE))
    red_column = [t.red_us for t in green]

    floor, _ = median_time(floor_loop, red_column, us(nows[1][1]))
    floor_per_case = floor / count
    print(
        f"floor     plain Python loop of {count:,} integer comparisons: {floor * 1000:.2f} ms "
        f"(median of {RUNS}) = {floor_per_case * 1e9:.0f} ns a case"
    )

    worst = 0.0
    wrong = 0
    for label, now in nows:
        at = us(now)
        local = now.astimezone(SHANGHAI)
        tick_at = at - MINUTE_US
        ticked = [CaseTiming(t.case_id, t.yellow_us, t.red_us, light_of(t, tick_at)) for t in green]

        results: dict[str, list[tuple[str, Light]]] = {}
        timed: dict[str, float] = {}
        runs: dict[str, list[float]] = {}
        for variant, stored in (("tick", ticked), ("cold", green)):
            results[variant] = recompute(stored, now)
            timed[variant], runs[variant] = median_time(recompute, stored, now)
        no_gc, _ = median_time(recompute, green, now, no_gc=True)
        worst = max(worst, *timed.values())

        started = time.perf_counter()
        slow = {cases[i].case_id: light_for(cases[i], now) for i in sample}
        slow_per_case = (time.perf_counter() - started) / SAMPLE

        for variant, stored in (("tick", ticked), ("cold", green)):
            changed = dict(results[variant])
            for i in sample:
                case_id = stored[i].case_id
                fast = changed.get(case_id, stored[i].light)
                if fast is not slow[case_id]:
                    wrong += 1
                    if wrong <= 5:
                        print(
                            f"  ! {case_id} at {local:%Y-%m-%d %H:%M} ({variant}): "
                            f"recompute {fast}, light_for {slow[case_id]}"
                        )

        lights = Counter(light_of(t, at) for t in green)
        print(
            f"{label} ({local:%a %Y-%m-%d %H:%M} Beijing): green {lights[Light.GREEN]:,}, "
            f"yellow {lights[Light.YELLOW]:,}, red {lights[Light.RED]:,}"
        )
        for variant, words in (("tick", "stored lights as of 1 min before"), ("cold", "every stored light green")):
            print(
                f"  recompute, {words}: {timed[variant] * 1000:.1f} ms (median of {RUNS}, "
                f"{spread(runs[variant])}), {len(results[variant]):,} lights changed; "
                f"{timed[variant] / floor:.1f}× the floor"
            )
        print(
            f"  diagnostic: the cold start with the cyclic collector paused during the call: {no_gc * 1000:.1f} ms "
            f"({no_gc / floor:.1f}× the floor)"
        )
        extrapolated = slow_per_case * TARGET_CASES
        print(
            f"  baseline light_for on {SAMPLE:,} sampled cases: {slow_per_case * 1e6:,.0f} µs a case, "
            f"extrapolated per case to {TARGET_CASES:,}: {extrapolated:.1f} s "
            f"({extrapolated / (timed['cold'] * TARGET_CASES / count):,.0f}× recompute's cold start)"
        )

    scaled = worst * TARGET_CASES / count
    if count == TARGET_CASES:
        met = "met" if worst < TARGET_SECONDS else "NOT met"
        print(
            f"target    recompute for {count:,} open cases < {TARGET_SECONDS:.0f} s: {met} (worst median {worst:.3f} s)"
        )
    else:
        print(
            f"target    recompute for {TARGET_CASES:,} open cases < {TARGET_SECONDS:.0f} s: not judged at {count:,} "
            f"(worst median {worst:.3f} s; scaled per case to {TARGET_CASES:,}: {scaled:.3f} s)"
        )
    register_step(cases, green)
    print("register  the writer's rule over the same cases (median of 5; one event built per change):")
    register_wrong = register_ticks(cases, green, nows)
    if register_wrong:
        print(f"check     FAILED: register.tick and recompute disagree at {register_wrong} instant(s)")
        return 1
    checks = SAMPLE * len(nows) * 2
    if wrong:
        print(f"check     FAILED: {wrong:,} of {checks:,} sampled lights differ between recompute and light_for")
        return 1
    print(
        f"check     OK: recompute equals light_for on {SAMPLE:,} sampled cases at {len(nows)} instants, both variants"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
