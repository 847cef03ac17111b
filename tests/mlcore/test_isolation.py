"""mlcore must stay framework-free, and serving must not import TensorFlow."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import mlcore

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "rest_framework", "channels", "celery")
APPS = ("audotics", "users", "playlists", "recommendations", "collaboration")


def _run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_mlcore_modules_import_no_framework():
    names = ["mlcore"] + [m.name for m in pkgutil.walk_packages(mlcore.__path__, "mlcore.")]
    code = (
        "import importlib, json, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    loaded = _run(code)
    roots = {m.split(".")[0] for m in loaded}
    assert not roots & set(FORBIDDEN), roots & set(FORBIDDEN)
    assert not roots & set(APPS)
    assert "tensorflow" not in roots  # importing mlcore must stay cheap


def test_serving_does_not_import_tensorflow(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    code = (
        "import json, sys\n"
        "from mlcore import HybridRecommender\n"
        f"m = HybridRecommender.load({str(tmp_path / 'm')!r})\n"
        "m.recommend('u1', k=5); m.similar_items('g1-t1'); m.continue_sequence(['g1-t1'])\n"
        "m.fold_in('new', ['g2-t2']); m.recommend('new', k=3)\n"
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules,"
        " 'django': 'django' in sys.modules}))"
    )
    assert _run(code) == {"tf": False, "keras": False, "django": False}
