"""The tables and the verdict of a gap-certified comparison (``search.certified_search``).

Rendered by the shared template ``pages/templates/certified.md``: a workload adds the Part that
``comparison_part`` returns to its ``parts``.
"""

from __future__ import annotations

import math

from .workload import Part, ms, table, verdict


def _fastest_peer(entries: list[dict], reference: str, time_key: str, reached_key: str) -> dict | None:
    peers = [e for e in entries if not e["ours"] and e[reached_key]]
    if reference:
        peers = [e for e in peers if e["key"] == reference] or peers
    return min(peers, key=lambda e: e[time_key]) if peers else None


def _setting(tol: float, rounds: int, repeats: int) -> str:
    return f"tol={tol:.0e}" + ("" if rounds >= repeats else f" ({rounds} timed rounds: slow)")


def _name(entry: dict) -> str:
    return f"**{entry['name']}**" if entry["ours"] else entry["name"]


def comparison_part(label: str, entries: list[dict], breakdown: dict[str, float], ratio_target: float,
                    reference: str = "", reference_label: str = "fastest peer",
                    verdict_reference: str = "the fastest peer") -> Part:
    """The certified table (with the verdict of ours), the uncertified table and the timing breakdown.

    Parameters
    ----------
    label : str
        The workload's label in the verdict line (e.g. "S1").
    entries : list of dict
        ``certified_search(...)["entries"]``.
    breakdown : dict of str to float
        Seconds of the breakdown runs, by row label.
    ratio_target : float
        Ours must take at most this multiple of the reference.
    reference : str, optional
        Key of the peer to compare with (default: the fastest peer that reached the target).
    reference_label, verdict_reference : str
        How the table column and the verdict line name the reference.

    Returns
    -------
    Part
        Block "comparison" of template "certified"; its figures hold ``status``, ``ratio``, ``fastest``.
    """
    for e in entries:
        e["uncertified_reached"] = e["uncertified"]["subopt"] <= e["target"]
    fastest = _fastest_peer(entries, reference, "time", "reached")
    summary = dict(status="MISS", ratio=float("nan"), fastest="none", time=float("nan"), fastest_time=float("nan"))
    rows = []
    for e in entries:
        record = e["certified"]
        ratio = e["time"] / fastest["time"] if fastest else float("nan")
        status = ""
        if e["ours"]:
            status = verdict(ratio, ratio_target) if (fastest and e["reached"]) else "MISS"
            summary = dict(status=status, ratio=ratio, fastest=fastest["key"] if fastest else "none", time=e["time"],
                           fastest_time=fastest["time"] if fastest else float("nan"))
        rows.append([_name(e), ms(e["time"]),
                     f"{record['max_gap']:.1e}" + ("" if e["reached"] else " (target not reached)"),
                     f"{record['max_gap'] / e['target']:.2g}", f"{record['subopt']:.1e}",
                     _setting(record["tol"], e["rounds"], e["repeats"]),
                     "" if record["iterations"] is None else str(record["iterations"]), f"{ratio:.2f}",
                     f"**{status} ({ratio:.2f} ×)**" if status else ""])
    fastest_u = _fastest_peer(entries, reference, "uncertified_time", "uncertified_reached")
    rows_u = []
    for e in entries:
        record = e["uncertified"]
        ratio = e["uncertified_time"] / fastest_u["uncertified_time"] if fastest_u else float("nan")
        if e["ours"]:
            summary.update(uncertified_ratio=ratio, uncertified_fastest=fastest_u["key"] if fastest_u else "none")
        rows_u.append([_name(e), ms(e["uncertified_time"]), f"{record['subopt']:.1e}", f"{record['max_gap']:.1e}",
                       _setting(record["tol"], e["uncertified_rounds"], e["repeats"]), f"{ratio:.2f}"])
    fit = summary["time"]
    part = Part("comparison", template="certified", figures=dict(
        label=label, ratio_target=ratio_target, verdict_reference=verdict_reference,
        time_ms=fit * 1e3, fastest_ms=summary["fastest_time"] * 1e3, budget_ms=ratio_target * summary["fastest_time"] * 1e3,
        breakdown="; ".join(f"{name} {ms(value)} ms ({value / fit:.0%} of ours)" for name, value in breakdown.items()),
        **summary))
    part.blocks.append("opt_missed" if summary["status"] == "MISS" else "opt_breakdown")
    part.tables["certified"] = table(["method", "time (ms)", "gap (common scale)", "gap / target", "P − P*", "setting",
                                      "iterations", f"× {reference_label}", f"target ≤ {ratio_target} ×"], rows)
    part.tables["uncertified"] = table(["method", "time (ms)", "P − P*", "gap (common scale)", "setting",
                                        f"× {reference_label}"], rows_u)
    if math.isnan(summary.get("uncertified_ratio", float("nan"))):
        part.figures.setdefault("uncertified_fastest", "none")
    return part


def compare_single_fits(label: str, methods: list, evaluate, reference: dict, context, tolerances: tuple[float, ...],
                        breakdown_runs, breakdown_labels: dict[str, str], ratio_target: float,
                        our_fits: dict) -> tuple[Part, dict, object]:
    """``certified_search`` of single fits, then ``comparison_part``; ours' row names the solver it ran.

    Parameters
    ----------
    label, ratio_target
        As in ``comparison_part``.
    methods, evaluate, reference, tolerances, breakdown_runs
        As in ``certified_search`` (the first method is ours); ``reference["target"]`` is the gap target.
    context : Context
        Repeats and threads.
    breakdown_labels : dict of str to str
        Row label -> key of a breakdown run.
    our_fits : dict
        Our fitted estimators by tolerance, filled by our method's ``solve``.

    Returns
    -------
    part, result, model
        The comparison Part, the search result, and our fit at its certified tolerance.
    """
    from .search import certified_search

    result = certified_search(methods, evaluate, reference["target"], reference, context.repeats, context.threads, tolerances,
                              breakdown_runs)
    entry = result["entries"][0]
    model = our_fits[entry["certified"]["tol"]]
    entry["name"] += f" (`{model.solver_}`)"
    breakdown = {name: result["times"][key] for name, key in breakdown_labels.items()}
    return comparison_part(label, result["entries"], breakdown, ratio_target), result, model
