"""Fixtures shared by the test modules."""
import pytest


@pytest.fixture
def no_work(monkeypatch):
    """Any clustering, metrics or GSEA run fails the test: the option and --out checks must come first."""
    import contrastomics.cluster.metrics as metrics
    import contrastomics.enrichment.run as run
    from contrastomics.report import outputs

    def boom(*a, **k):
        raise AssertionError("work started before the options and --out were checked")
    monkeypatch.setattr(outputs, "run_clustering", boom)
    monkeypatch.setattr(run, "run_to_folder", boom)
    monkeypatch.setattr(metrics, "evaluate_file", boom)
