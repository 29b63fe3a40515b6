"""K-Means tile kernels: score a tile of rows against every centre.

A tile is up to :data:`TILE` rows of X, gathered and transposed into a
``(n_features, TILE)`` buffer so that every loop runs over the rows with no
reduction and vectorises without ``fastmath``. The score of row ``x`` against
centre ``c_j`` is ``x . c_j - ||c_j||^2 / 2`` in X's dtype (the nearest centre
has the largest score; see :mod:`clustra._kernels.kmeans`). Scores come from
the kernels' own loops, which add the terms in feature order with one fused
multiply-add each (:func:`clustra._kernels.intrinsics.fma`), or, for large
problems, from one BLAS product per tile; every kernel of a fit takes the same
path, so they agree on every score to the last bit. Ties go to the lowest
centre index, as in scikit-learn.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from clustra._kernels.intrinsics import fma
from clustra._kernels.jit import inner

TILE = 128  # rows scored together (a divisor of kmeans_sums.CHUNK)

TileWork = namedtuple(
    "TileWork",
    ["x_t", "scores", "best_score", "second_score", "best", "rows", "products", "blas"],
)
TileWork.__doc__ = """The per-thread work space of the tile kernels (see :func:`tile_buffers`)."""


@inner
def _coefficients(centers, j, f):
    """Centre j's values of features ``f .. f + 3`` (zeros past the last feature)."""
    n_features = centers.shape[1]
    zero = centers.dtype.type(0)
    return (centers[j, f],
            centers[j, f + 1] if f + 1 < n_features else zero,
            centers[j, f + 2] if f + 2 < n_features else zero,
            centers[j, f + 3] if f + 3 < n_features else zero)


@inner
def _add4(y, c, s):
    """``s`` plus the four terms ``y[q] * c[q]``, in order, one fused multiply-add each."""
    return fma(y[3], c[3], fma(y[2], c[2], fma(y[1], c[1], fma(y[0], c[0], s))))


@inner
def _fold1(top, second, label, s, j):
    """(best, runner-up, label) after centre j's score s: strictly better wins."""
    better = s > top
    return (s if better else top), (top if better else max(second, s)), (j if better else label)


@inner
def _fold4(s, j, top, second, label):
    """(best, runner-up, label) after the scores ``s`` of centres ``j .. j + 3``, in order."""
    # One integer type for the label throughout: one compilation of _fold1, not two.
    top, second, label = _fold1(top, second, np.int64(label), s[0], j)
    top, second, label = _fold1(top, second, label, s[1], j + 1)
    top, second, label = _fold1(top, second, label, s[2], j + 2)
    return _fold1(top, second, label, s[3], j + 3)


@inner
def _fold4_into(s, j, r, best_score, second_score, best):
    """Fold the scores ``s`` of centres ``j .. j + 3`` into slot r's best and runner-up."""
    top, second, label = _fold4(s, j, best_score[r], second_score[r], best[r])
    best_score[r] = top
    second_score[r] = second
    best[r] = label


@inner
def _score_quad(x_t, width, centers, neg_half_norms, j, scores, best_score, second_score, best):
    """Fold the scores of the tile's slots against centres ``j .. j + 3`` into the best ones.

    A score is ``neg_half_norms[j] + sum_f x[f] * centers[j, f]``, the terms
    added one feature at a time in feature order, each by one fused
    multiply-add: every kernel computes a score with exactly these roundings.
    Four centres share each load of a row slice and four features are added
    per pass over the slots, so each load feeds four multiply-adds: with
    fewer, loads and stores bound the loop rather than arithmetic
    (benchmarks/results/kmeans-choices.md). The partial scores wait in
    ``scores`` ((4, TILE)) between passes; the last pass folds them into
    ``best_score``, ``second_score`` and ``best`` directly (see
    :func:`_fold4`).

    ``x_t`` has a multiple of 4 rows, those past the last feature zero: a
    term ``0 * 0`` adds nothing to a score (at most turns -0 into +0: no
    comparison changes). Centres past the last one score -inf: never better
    than a real centre, never a runner-up above one.
    """
    n_groups = x_t.shape[0] // 4
    last_centre = centers.shape[0] - 1
    jb, jc, jd = min(j + 1, last_centre), min(j + 2, last_centre), min(j + 3, last_centre)
    none = neg_half_norms.dtype.type(-np.inf)
    ia = neg_half_norms[j]
    ib = neg_half_norms[jb] if j + 1 <= last_centre else none
    ic = neg_half_norms[jc] if j + 2 <= last_centre else none
    id_ = neg_half_norms[jd] if j + 3 <= last_centre else none
    a, b, c, d = scores[0], scores[1], scores[2], scores[3]
    for g in range(n_groups):
        f = 4 * g
        x0, x1, x2, x3 = x_t[f], x_t[f + 1], x_t[f + 2], x_t[f + 3]
        ca, cb = _coefficients(centers, j, f), _coefficients(centers, jb, f)
        cc, cd = _coefficients(centers, jc, f), _coefficients(centers, jd, f)
        first, last = g == 0, g == n_groups - 1
        # Four loops, so that none holds a branch: the first pass starts from
        # the constant terms, the last one folds.
        if first and last:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                s = (_add4(y, ca, ia), _add4(y, cb, ib), _add4(y, cc, ic), _add4(y, cd, id_))
                _fold4_into(s, j, r, best_score, second_score, best)
        elif first:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                sa, sb = _add4(y, ca, ia), _add4(y, cb, ib)
                sc, sd = _add4(y, cc, ic), _add4(y, cd, id_)
                a[r], b[r], c[r], d[r] = sa, sb, sc, sd
        elif last:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                s = (_add4(y, ca, a[r]), _add4(y, cb, b[r]), _add4(y, cc, c[r]),
                     _add4(y, cd, d[r]))
                _fold4_into(s, j, r, best_score, second_score, best)
        else:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                sa, sb = _add4(y, ca, a[r]), _add4(y, cb, b[r])
                sc, sd = _add4(y, cc, c[r]), _add4(y, cd, d[r])
                a[r], b[r], c[r], d[r] = sa, sb, sc, sd


@inner
def _few_score(n_features, init, y, c):
    """``init + y . c`` over the first 1 to 4 features of the 4-tuples y, c, in feature order."""
    s = fma(y[0], c[0], init)
    if n_features > 1:
        s = fma(y[1], c[1], s)
    if n_features > 2:
        s = fma(y[2], c[2], s)
    if n_features > 3:
        s = fma(y[3], c[3], s)
    return s


@inner
def _fold(score, label, s, j):
    """(score, label) after comparing centre j's score s: strictly better wins (lowest index)."""
    better = s > score
    return (s if better else score), (j if better else label)


@inner
def _few_coefficients(centers, j, last):
    """Centre j's first four coordinates (the last one repeated when there are fewer)."""
    return (centers[j, 0], centers[j, min(1, last)], centers[j, min(2, last)],
            centers[j, min(3, last)])


@inner
def nearest_few_features(x_t, offset, width, centers, neg_half_norms, best_score, best):
    """Nearest centre of columns ``offset .. offset + width`` of ``x_t`` (at most 4 features).

    ``x_t`` holds rows as columns, ``(n_features, m)``: a gathered tile
    (offset 0) or a whole transposed X. Four centres are compared per
    vectorised pass over the columns, in registers, so the best scores and
    labels are stored once per four centres and nothing else is; the first
    pass starts from centre 0's score. The terms are added in the order of
    :func:`_score_quad`, so the scores are the same to the last bit, and ties
    go to the lowest index. Results go to ``best_score[:width]`` and
    ``best[:width]``. With few features there is little arithmetic per row,
    so loads and stores are the cost this saves.
    """
    # Loops of their own for 1 and 2 features (1-D and 2-D data are common),
    # so that they compute no terms they then discard; each copy costs compile
    # time (figures: benchmarks/results/kmeans-choices.md).
    n_features = x_t.shape[0]
    if n_features == 1:
        _nearest_few(1, x_t, offset, width, centers, neg_half_norms, best_score, best)
    elif n_features == 2:
        _nearest_few(2, x_t, offset, width, centers, neg_half_norms, best_score, best)
    else:
        _nearest_few(n_features, x_t, offset, width, centers, neg_half_norms, best_score, best)


@njit(cache=True, inline="always")
def _nearest_few(n_features, x_t, offset, width, centers, neg_half_norms, best_score, best):
    """:func:`nearest_few_features`'s loops (inlined; a constant ``n_features`` folds them)."""
    n_clusters = centers.shape[0]
    last = n_features - 1
    stop = offset + width
    x0, x1 = x_t[0, offset:stop], x_t[min(1, last), offset:stop]
    x2, x3 = x_t[min(2, last), offset:stop], x_t[min(3, last), offset:stop]
    top = n_clusters - 1
    for j in range(0, n_clusters, 4):
        # Repeats of the last centre when fewer than four are left: never strictly better.
        jb, jc, jd = min(j + 1, top), min(j + 2, top), min(j + 3, top)
        ca, cb = _few_coefficients(centers, j, last), _few_coefficients(centers, jb, last)
        cc, cd = _few_coefficients(centers, jc, last), _few_coefficients(centers, jd, last)
        ia, ib = neg_half_norms[j], neg_half_norms[jb]
        ic, id_ = neg_half_norms[jc], neg_half_norms[jd]
        if j == 0:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                # Labels as int64 throughout: one compilation of _fold, not three.
                score, label = _few_score(n_features, ia, y, ca), np.int64(0)
                score, label = _fold(score, label, _few_score(n_features, ib, y, cb), jb)
                score, label = _fold(score, label, _few_score(n_features, ic, y, cc), jc)
                score, label = _fold(score, label, _few_score(n_features, id_, y, cd), jd)
                best_score[r] = score
                best[r] = label
        else:
            for r in range(width):
                y = (x0[r], x1[r], x2[r], x3[r])
                score, label = best_score[r], np.int64(best[r])
                score, label = _fold(score, label, _few_score(n_features, ia, y, ca), j)
                score, label = _fold(score, label, _few_score(n_features, ib, y, cb), jb)
                score, label = _fold(score, label, _few_score(n_features, ic, y, cc), jc)
                score, label = _fold(score, label, _few_score(n_features, id_, y, cd), jd)
                best_score[r] = score
                best[r] = label


@inner
def gather_tile(X, rows, n_rows, x_t):
    """x_t[:, r] = X[rows[r]] for r < n_rows, zeros up to the returned width.

    The width is n_rows rounded up to a multiple of 16 (at most TILE): the
    scoring loops run over that many slots, so a tile of a few pending rows
    costs a few vectors, not TILE slots.
    """
    width = min(TILE, (n_rows + 15) // 16 * 16)
    n_features = X.shape[1]
    if n_features <= 4:  # a feature at a time: a vectorised gather per feature
        for f in range(n_features):
            x_f = x_t[f]
            for r in range(n_rows):
                x_f[r] = X[rows[r], f]
    else:  # a row at a time: each row is read whole
        for r in range(n_rows):
            row = rows[r]
            for f in range(n_features):
                x_t[f, r] = X[row, f]
    for f in range(n_features):
        for r in range(n_rows, width):
            x_t[f, r] = 0
    return width


@inner
def _take_best2(values, offset, j, width, best_score, second_score, best):
    """Fold centre j's scores (``values[r] + offset``) into the best and runner-up scores.

    Branch-free, so that the loop vectorises; ties keep the lower index.
    """
    for r in range(width):
        top, second, label = _fold1(best_score[r], second_score[r], np.int64(best[r]),
                                    values[r] + offset, j)
        best_score[r] = top
        second_score[r] = second
        best[r] = label


@inner
def _take_best(values, offset, j, width, best_score, best):
    """Like :func:`_take_best2` without the runner-up."""
    for r in range(width):
        s = values[r] + offset
        better = s > best_score[r]
        best_score[r] = s if better else best_score[r]
        best[r] = j if better else best[r]


@inner
def _take_best_of_products(products, neg_half_norms, width, best_score, second_score, best,
                           runner_up):
    """Fold every centre's row of BLAS ``products`` (plus its constant) into the best scores.

    Four centres per pass over the slots, compared in centre order in
    registers, so the best scores and labels are loaded and stored once per
    four centres rather than once per centre; the same results as folding
    them one by one (:func:`_take_best2`, :func:`_take_best`).
    """
    n_clusters = products.shape[0]
    stop = n_clusters - n_clusters % 4
    for j in range(0, stop, 4):
        p0, p1, p2, p3 = products[j], products[j + 1], products[j + 2], products[j + 3]
        o0, o1, o2, o3 = (neg_half_norms[j], neg_half_norms[j + 1], neg_half_norms[j + 2],
                          neg_half_norms[j + 3])
        if runner_up:
            for r in range(width):
                scores = (p0[r] + o0, p1[r] + o1, p2[r] + o2, p3[r] + o3)
                _fold4_into(scores, j, r, best_score, second_score, best)
        else:
            for r in range(width):
                top = best_score[r]
                label = best[r]
                for s, q in ((p0[r] + o0, j), (p1[r] + o1, j + 1), (p2[r] + o2, j + 2),
                             (p3[r] + o3, j + 3)):
                    better = s > top
                    top = s if better else top
                    label = q if better else label
                best_score[r] = top
                best[r] = label
    for j in range(stop, n_clusters):
        if runner_up:
            _take_best2(products[j], neg_half_norms[j], j, width, best_score, second_score, best)
        else:
            _take_best(products[j], neg_half_norms[j], j, width, best_score, best)


@inner
def tile_best(X, rows, n_rows, centers, neg_half_norms, work, runner_up, few=None, blas=True):
    """Score the rows ``rows[:n_rows]`` of X against every centre, vectorised over rows.

    ``work`` is the :class:`TileWork` of :func:`tile_buffers`. On return ``best[r]`` is
    the nearest centre of row ``rows[r]`` (lowest index on ties) and
    ``best_score`` its score (fields of ``work``); with ``runner_up``,
    ``second_score`` holds the runner-up's score. With ``work.blas`` the products come from one
    BLAS matrix product per tile (``centers @ x_t``, then the constant term is
    added); otherwise from :func:`_score_quad` (which always keeps the
    runner-up: folding it costs little next to the scores), or, when ``few``
    is given (not None) and there are at most 4 features and no runner-up, from
    :func:`nearest_few_features` (the same scores). ``blas=None`` leaves the
    BLAS path out of the compiled kernel (``work.blas`` must then be False).
    Every kernel of a fit
    uses the same scores, so they agree on every score to the last bit.
    """
    x_t, scores, best_score, second_score, best = (work.x_t, work.scores, work.best_score,
                                                   work.second_score, work.best)
    n_features = X.shape[1]
    width = gather_tile(X, rows, n_rows, x_t)
    # ``few is None`` (the default) drops this branch at compile time: a caller
    # with more than 4 features never compiles nearest_few_features.
    if few is not None and not work.blas and not runner_up and n_features <= 4:
        nearest_few_features(x_t[:n_features], np.int64(0), width, centers, neg_half_norms,
                             best_score, best)
        return n_rows
    for r in range(width):
        best_score[r] = -np.inf
        second_score[r] = -np.inf
        best[r] = 0
    n_clusters = centers.shape[0]
    # ``blas is None`` drops the BLAS path at compile time (a caller that never uses it).
    if blas is not None and work.blas:
        np.dot(centers, x_t[:n_features], work.products)
        _take_best_of_products(work.products, neg_half_norms, width, best_score, second_score,
                               best, runner_up)
        return n_rows
    for j in range(0, n_clusters, 4):
        _score_quad(x_t, width, centers, neg_half_norms, j, scores, best_score, second_score,
                    best)
    return n_rows


@inner
def tile_buffers(n_features, n_clusters, dtype, blas):
    """The per-thread work space of the tile kernels, as a :class:`TileWork`.

    Its fields: the gathered transposed rows (d rounded up to a multiple of 4, TILE; the
    rows past d stay zero, see :func:`_score_quad`), four rows of partial
    scores (4, TILE), the best and runner-up scores and the best centre per
    slot, a row-index buffer, the BLAS products (k, TILE) (a 1 x 1 stand-in
    without BLAS) and the flag itself.
    """
    # Zeros: the padding rows are never written, and slots past a tile's
    # width are read only by BLAS (which needs them finite).
    x_t = np.zeros(((n_features + 3) // 4 * 4, TILE), dtype=dtype)
    scores = np.empty((4, TILE), dtype=dtype)
    best_score = np.empty(TILE, dtype=dtype)
    second_score = np.empty(TILE, dtype=dtype)
    best = np.empty(TILE, dtype=np.int32)
    rows = np.empty(TILE, dtype=np.int64)
    products = np.empty((n_clusters, TILE) if blas else (1, 1), dtype=dtype)
    return TileWork(x_t, scores, best_score, second_score, best, rows, products, blas)


@inner
def tile_sq_norms(x_t, n_rows, out):
    """``out[r]``: the squared norm of the tile's slot r (float64), for r < n_rows.

    The squares are added in feature order, as
    :func:`clustra._kernels.kmeans.row_sq_norms` adds them: the same values.
    """
    for r in range(n_rows):
        out[r] = 0.0
    for f in range(x_t.shape[0]):
        x_f = x_t[f]
        for r in range(n_rows):
            value = np.float64(x_f[r])
            out[r] += value * value


@inner
def tile_rows(rows, start, end):
    """rows[:n] = start, start + 1, ... for the next tile of [start, end); returns n."""
    n_rows = min(TILE, end - start)
    for r in range(n_rows):
        rows[r] = start + r
    return n_rows
