"""2-D cluster map (cluster/layout.py): discs that never overlap, members inside their disc, similar
clusters close, deterministic, and near-linear cost in the number of discs."""
import time

import numpy as np
import pytest
import scipy.sparse as sp

from contrastomics.cluster.layout import (_offsets_batched, _offsets_exact, cluster_layout, initial_centres,
                                          layout_discs, near_pairs, separate_discs)


def themed(n_themes=3, per_theme=6, size=8, n_single=10, d=32, seed=0):
    """Clusters of ``size`` members around ``n_themes`` far-apart anchors (several clusters per
    theme), plus singletons near anchor 0. Returns labels (clusters numbered first), vectors, theme
    of each cluster id."""
    rng = np.random.default_rng(seed)
    anchors = rng.normal(size=(n_themes, d)) * 10
    labels, x, theme = [], [], []
    c = 0
    for t in range(n_themes):
        for _ in range(per_theme):
            centre = anchors[t] + rng.normal(size=d)
            x.append(centre + 0.2 * rng.normal(size=(size, d)))
            labels += [c] * size
            theme.append(t)
            c += 1
    for _ in range(n_single):
        x.append(anchors[0] + rng.normal(size=(1, d)))
        labels.append(c)
        theme.append(0)
        c += 1
    return np.array(labels), np.vstack(x), np.array(theme)


def check_discs(labels, coords, centres, radii, gap):
    """Every member inside its disc, no two discs closer than the gap, all inside [-1, 1]."""
    assert np.abs(coords).max() <= 1 + 1e-9 and np.isclose(np.abs(coords).max(), 1.0)
    _, inv = np.unique(labels, return_inverse=True)
    inside = np.hypot(*(coords - centres[inv]).T)
    assert np.all(inside <= radii[inv] * 0.9 + 1e-9)
    d = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
    need = radii[:, None] + radii[None] + gap
    np.fill_diagonal(d, np.inf)
    assert np.all(d >= need - 1e-9), f"discs overlap by up to {np.max(need - d):.3g}"


@pytest.mark.parametrize("exact_below", [10**9, 0])  # per-cluster exact PCA / batched projected PCA
def test_discs_do_not_overlap_and_hold_their_members(exact_below):
    labels, x, _ = themed()
    coords, centres, radii, gap = layout_discs(labels, x, exact_below=exact_below)
    check_discs(labels, coords, centres, radii, gap)
    # discs are sqrt(size) in map units: a cluster of 8 has a disc sqrt(8) times a singleton's
    assert radii[0] / radii[-1] == pytest.approx(np.sqrt(8))
    np.testing.assert_array_equal(coords, cluster_layout(labels, x, exact_below=exact_below))


def test_similar_clusters_sit_together():
    labels, x, theme = themed(n_single=0)
    _, centres, _, _ = layout_discs(labels, x)
    d = np.hypot(*(centres[:, None] - centres[None]).transpose(2, 0, 1))
    same = theme[:, None] == theme[None]
    off = ~np.eye(len(theme), dtype=bool)
    # (a random placement scores ~1.0 and ~1/3 on these two)
    assert d[same & off].mean() < 0.8 * d[~same].mean()
    # each cluster's nearest other disc mostly belongs to its own theme
    np.fill_diagonal(d, np.inf)
    assert np.mean(theme[d.argmin(1)] == theme) >= 0.75


def test_deterministic_and_order_free_of_label_values():
    labels, x, _ = themed(seed=3)
    a = cluster_layout(labels, x)
    np.testing.assert_array_equal(a, cluster_layout(labels.copy(), x.copy()))
    # renaming clusters by a monotone map changes nothing
    np.testing.assert_allclose(cluster_layout(labels * 10 + 7, x), a)


def test_members_spread_inside_disc_by_their_own_structure():
    """Two sub-groups inside one cluster land on opposite sides of its disc (exact and batched)."""
    rng = np.random.default_rng(1)
    d = 40
    axis = rng.normal(size=d)
    x = np.vstack([axis + 0.05 * rng.normal(size=(10, d)), -axis + 0.05 * rng.normal(size=(10, d)),
                   rng.normal(size=(6, d)) * 5 + 20])
    labels = np.array([0] * 20 + [1] * 6)
    for exact_below in (10**9, 0):
        coords, centres, _, _ = layout_discs(labels, x, exact_below=exact_below)
        local = coords[:20] - centres[0]
        proj = local @ (local[:10].mean(0) - local[10:].mean(0))
        assert (proj[:10] > 0).all() and (proj[10:] < 0).all()


def test_batched_pca_matches_exact_pca_without_projection():
    """With d <= 16 the batched path is plain PCA per cluster: same scores up to each axis's sign."""
    rng = np.random.default_rng(2)
    sizes = np.array([30, 12, 5, 2, 1, 1])
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = rng.normal(size=(len(labels), 8)) * np.linspace(3, 0.5, 8)
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    onehot = sp.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), inv)), shape=(len(labels), len(sizes)))
    cent = np.asarray(onehot.T @ x) / counts[:, None]
    exact = _offsets_exact(inv, x, counts)
    batched = _offsets_batched(inv, x, cent, counts, onehot)
    np.testing.assert_allclose(np.abs(batched), np.abs(exact), atol=1e-8)
    assert np.all(exact[sizes[inv] == 1] == 0) and np.all(batched[sizes[inv] == 1] == 0)


def test_near_pairs_matches_brute_force():
    rng = np.random.default_rng(4)
    k = 400
    pos = rng.uniform(0, 120, size=(k, 2))
    radius = np.sqrt(rng.geometric(0.08, size=k)).astype(float)  # radii 1 .. ~8: several bands
    for reach in (0.0, 0.6, 3.0):
        i, j = near_pairs(pos, radius, reach)
        got = {tuple(sorted(p)) for p in zip(i, j)}
        d = np.hypot(*(pos[:, None] - pos[None]).transpose(2, 0, 1))
        ii, jj = np.nonzero(np.triu(d < radius[:, None] + radius[None] + reach, 1))
        assert got == set(zip(ii, jj)) and len(got) == len(i)


def test_coincident_and_degenerate_inputs():
    # every vector identical (e.g. an empty embedding block): discs still separate
    labels = np.repeat(np.arange(30), np.r_[np.full(10, 5), np.ones(20, int)])
    x = np.zeros((len(labels), 1))
    coords, centres, radii, gap = layout_discs(labels, x)
    check_discs(labels, coords, centres, radii, gap)
    # discs stacked on one point are pushed apart
    pos = separate_discs(np.zeros((6, 2)), np.ones(6), gap=0.5)
    d = np.hypot(*(pos[:, None] - pos[None]).transpose(2, 0, 1)) + np.eye(6) * 9
    assert d.min() >= 2.5 - 1e-9
    assert cluster_layout(np.array([], int), np.zeros((0, 3))).shape == (0, 2)
    one = cluster_layout(np.array([4]), np.ones((1, 3)))
    assert one.shape == (1, 2) and np.all(np.isfinite(one))
    two = cluster_layout(np.array([0, 0, 1]), np.eye(3))
    assert np.all(np.isfinite(two)) and np.abs(two).max() == pytest.approx(1.0)


def test_initial_centres_spread_a_shared_centroid():
    """Many discs with one centroid start side by side, not on top of each other."""
    radius = np.ones(50)
    pos = initial_centres(np.zeros((50, 4)), radius, gap=0.6)
    d = np.hypot(*(pos[:, None] - pos[None]).transpose(2, 0, 1)) + np.eye(50) * 99
    assert d.min() > 1.0


def test_scales_to_thousands_of_discs():
    """10,000 pathways in ~1,500 clusters and singletons: well under a second on one core (the old
    all-pairs relaxation took ~20 s here); checks the invariants at scale too."""
    rng = np.random.default_rng(0)
    sizes = np.r_[np.minimum(rng.geometric(1 / 12, size=800) + 1, 200), np.ones(500, int)]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    cent = rng.normal(size=(len(sizes), 64))
    x = cent[labels] + 0.5 * rng.normal(size=(len(labels), 64))
    t = time.process_time()
    coords, centres, radii, gap = layout_discs(labels, x)
    took = time.process_time() - t
    check_discs(labels, coords, centres, radii, gap)
    assert took < 3.0, f"layout of {len(labels)} pathways took {took:.1f} CPU s"


def test_features_from_graph_randomised_matches_exact_subspace():
    """Above ``exact_below`` nodes the randomised SVD spans the same leading directions."""
    from contrastomics.cluster.layout import features_from_graph
    rng = np.random.default_rng(5)
    blocks = np.repeat(np.arange(6), 40)
    p = np.where(blocks[:, None] == blocks[None], 0.5, 0.01)
    a = np.triu(rng.random(p.shape) < p, 1).astype(float)
    adj = sp.csr_matrix(a + a.T)
    exact = features_from_graph(adj, dim=6)
    fast = features_from_graph(adj, dim=6, exact_below=0)
    assert exact.shape == fast.shape == (240, 6)
    # same subspace: projecting one basis on the other keeps (almost) all of it
    q1, _ = np.linalg.qr(exact)
    q2, _ = np.linalg.qr(fast)
    assert np.linalg.svd(q1.T @ q2, compute_uv=False).min() > 0.95
