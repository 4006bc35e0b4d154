"""docs/trustsim.ipynb runs from top to bottom in a fresh kernel: a comparison, a sweep, a
calibration and a policy search from a notebook, on worker processes, without a main guard."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extras (make test) install nbclient and ipykernel")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "trustsim.ipynb"


def test_the_example_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "9 of 9 runs" in text
    assert "fitted: {'mechanisms.trial_switch':" in text
    assert "Trust: experiential does best" in text or "Trust:" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # the trust curves, the search history, the fit
    assert (tmp_path / "notebook-results" / "noise" / "sweep.json").exists()
