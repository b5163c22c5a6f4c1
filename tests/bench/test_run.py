"""The benchmark runs, in small sizes, against the suite's Redis: a change to the code it measures that
breaks it shows here, not at the next measurement (the ingest, map and MSEL sections had stopped running)."""
from __future__ import annotations

import json

from bench.run import main


def test_ben001_the_cheap_sections_run_and_write_their_figures(redis_url, tmp_path, capsys):
    results = tmp_path / "bench.json"
    code = main(["--quick", "--redis-url", redis_url, "--only", "ingest,map,assets,msel,replay,memory", "--n", "300",
                 "--sizes", "200", "--repeats", "1", "--workers", "1", "--no-profile", "--assets", "200",
                 "--json", str(results)])
    report = json.loads(results.read_text())
    failed = {name: section["error"] for name, section in report.items()
              if isinstance(section, dict) and "error" in section}
    assert failed == {} and code == 0, capsys.readouterr().err[-3000:]
    assert {"ingest", "map", "assets", "msel", "replay", "memory"} <= set(report)
    assert report["ingest"]["stored"] == 300 and report["ingest"]["dead_letters"] == 0
