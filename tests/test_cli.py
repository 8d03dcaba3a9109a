import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    return subprocess.run([sys.executable, "-c", "from contrastomics.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_help_lists_every_method():
    r = run_cli("--help")
    assert r.returncode == 0, r.stderr
    for cmd in ("gsfm", "gtclip", "cal", "comtip", "cluster"):
        assert cmd in r.stdout


def test_input_error_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_text("only_one_field\n")
    r = run_cli("gsfm", "embed", "--model", str(tmp_path / "nomodel"), "--gmt", str(bad),
                "--out", str(tmp_path / "e.parquet"))
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "e.parquet").exists()


def test_readme_opens_with_install_demo_and_test_commands_used_by_ci():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 3
    install, demo, test = block
    assert install.startswith("pip install") and "contrastomics cluster --demo" in demo and "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert install in ci and test in ci


def test_readme_python_example_runs_on_the_demo(monkeypatch, tmp_path):
    """The README's Python snippet, with its file name pointed at the shipped demo result."""
    from contrastomics.enrichment import demo_result_path
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    name = re.search(r'cluster_gsea\("([^"]+)"', code).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(demo_result_path().read_bytes())
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    df = scope["df"]
    assert len(df) > 0 and {"cluster", "cluster_label", "term"} <= set(df.columns)
