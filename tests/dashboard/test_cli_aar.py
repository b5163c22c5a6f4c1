"""``crisisdash aar`` against a real Redis: the report of an exercise loaded from the command line."""
from __future__ import annotations

from dashboard.cli import main


def test_aar101_the_aar_command_prints_the_report_as_markdown_and_html(redis_url, prefix, tmp_path, capsys):
    msel = tmp_path / "msel.csv"
    msel.write_text("inject,offset,to,type,severity,title,lat,lon,expected_action,objective\n"
                    "1,0:05:00,RS,hazmat,high,Leak <b>at</b> the plant,44.8,20.4,acknowledge within 5m,OBJ-1\n",
                    encoding="utf-8")
    common = ["--redis-url", redis_url, "--prefix", prefix]
    assert main(["exercise", "load", str(msel), "--name", "CLI <AAR>", *common]) == 0
    exercise_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["aar", exercise_id, "--format", "md", *common]) == 0
    md = capsys.readouterr().out
    assert md.splitlines()[0].endswith("EXERCISE") and "CLI &lt;AAR&gt;" in md and "| 1 | OBJ-1 | - |" in md
    assert main(["aar", exercise_id, "--format", "html", *common]) == 0
    page = capsys.readouterr().out
    assert "<h1>After-action report: CLI &lt;AAR&gt; (EXERCISE)</h1>" in page and "<AAR>" not in page
    assert main(["aar", "ex-unknown", *common]) == 2
    import redis

    from alerts.store.audit import AuditLog
    from alerts.store.keys import Keys

    exported = [e for e in AuditLog(redis.Redis.from_url(redis_url), Keys(prefix)).read_all()
                if e.action == "export.aar"]
    assert [(e.object, e.detail["format"]) for e in exported] == [(exercise_id, "md"), (exercise_id, "html")]
    assert all(e.actor.startswith("cli:") for e in exported)
