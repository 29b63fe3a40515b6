"""Turn a table into the matrix that gets clustered, keeping every row accounted for.

The transformations are scikit-learn's own (SimpleImputer, the scalers,
OneHotEncoder, PCA, IsolationForest, LocalOutlierFactor) assembled into a
:class:`~sklearn.pipeline.Pipeline`. Rows that cannot be clustered (missing
values, outliers) are not deleted: they get a status, so the labelled output
still has one row per input row, in input order.

Which columns are numeric, categorical, ids or free text (and which are
constant) is decided by one documented rule, :mod:`clustra._column_roles`;
what it changes or leaves out comes back as ``PreparedData.notices``.

Order of the steps, as the handbooks teach: select columns, handle missing
values, scale numeric columns and one-hot encode categorical ones, flag
outliers, then reduce with PCA (fitted on the inliers only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from clustra.io import DataError, OptionError

SCALERS = ("standard", "robust", "minmax", "none")
IMPUTERS = ("mean", "median", "drop")
OUTLIER_METHODS = ("none", "iforest", "lof")

STATUS_CLUSTERED = "clustered"
STATUS_NOISE = "noise"
STATUS_MISSING = "missing values"
STATUS_OUTLIER = "outlier"

# Columns with values beyond this size (or all below its inverse) are divided by
# their largest magnitude before scaling: the scalers' sums of squares would
# overflow (or underflow) float64.
PRESCALE_ABOVE = 1e100


@dataclass
class Step:
    """One preprocessing step as shown in the report and the JSON output."""

    name: str
    detail: str

    def to_dict(self) -> dict:
        return {"step": self.name, "detail": self.detail}


@dataclass
class PreparedData:
    """The outcome of :func:`prepare`.

    Attributes
    ----------
    X : ndarray of shape (n_used, n_features), float64
        The transformed rows that go to the clustering algorithm.
    used : ndarray of shape (n_rows,), bool
        Which input rows are in ``X`` (in input order).
    status : ndarray of shape (n_rows,), object
        ``"clustered"`` for used rows (refined later to ``"noise"``),
        ``"missing values"`` or ``"outlier"`` for the others.
    pipeline : sklearn.pipeline.Pipeline
        The fitted transformation (columns -> [pca]).
    notices : list of str
        What the column typing changed or left out and the user should know
        (unparsable cells made missing, ids and constant columns left out).
    all_constant : bool
        Every column used is constant: the rows are one point.
    numeric_values : dict
        ``{column: pandas.Series of float64}``, each numeric column as it was
        read into numbers (unparsable cells and infinities missing).
    """

    X: np.ndarray
    used: np.ndarray
    status: np.ndarray
    pipeline: object
    numeric_columns: list[str]
    categorical_columns: list[str]
    skipped_columns: dict[str, str]
    feature_names: list[str]
    steps: list[Step] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    all_constant: bool = False
    numeric_values: dict = field(default_factory=dict)


def parse_reduce(spec) -> int | float | None:
    """Parse ``--reduce``: ``None``/``"none"``, ``"pca:N"`` (components) or ``"pca:0.9"``
    (fraction of variance kept)."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "none")):
        return None
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        value = spec
    else:
        method, _, amount = str(spec).partition(":")
        if method.strip().lower() != "pca" or not amount:
            raise OptionError(
                f"reduce={spec!r} is not understood; use pca:N (N components, e.g. pca:2) "
                "or pca:F (fraction of variance to keep, e.g. pca:0.9)."
            )
        try:
            value = int(amount) if amount.strip().isdigit() else float(amount)
        except ValueError:
            raise OptionError(f"reduce={spec!r}: {amount!r} is not a number.") from None
    if isinstance(value, float) and not 0.0 < value < 1.0:
        raise OptionError(f"reduce={spec!r}: a variance fraction must be in (0, 1), got {value}.")
    if isinstance(value, int) and value < 1:
        raise OptionError(f"reduce={spec!r}: the number of components must be at least 1, "
                          f"got {value}.")
    return value


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise OptionError(f"{name}={value!r} is not one of: {', '.join(choices)}.")


def select_columns(frame, columns=None, id_column=None):
    """Split the table's columns into numeric, categorical and skipped (with reasons).

    The rule is :mod:`clustra._column_roles`'s; see :func:`column_roles` for
    everything it decided (the numeric values, the notices).
    """
    roles = column_roles(frame, columns, id_column)
    return roles.numeric, roles.categorical, roles.skipped


def column_roles(frame, columns=None, id_column=None):
    """The :class:`~clustra._column_roles.ColumnRoles` of ``frame``.

    Raises :class:`DataError` when no column is numeric (and the data are not
    all constant).
    """
    from clustra._column_roles import assign_roles

    names = [str(c) for c in frame.columns]
    frame = frame.set_axis(names, axis=1)
    if id_column is not None and id_column not in names:
        raise DataError(f"id_column={id_column!r} is not a column; "
                        f"columns are: {_listing(names)}.")
    if columns is not None and not columns:
        raise OptionError("columns= names no column; name at least one, or leave it out to use "
                          "every usable column.")
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataError(f"Column(s) {_listing(missing)} not found; "
                            f"columns are: {_listing(names)}.")
    roles = assign_roles(frame, columns, id_column)
    if not roles.numeric and not roles.all_constant:
        # One-hot indicators alone make a poor geometry for these algorithms; they only
        # complement numeric columns.
        described = [f"{name!r} is text" for name in roles.categorical]
        described += [f"{name!r}: {why}" for name, why in roles.skipped.items()]
        raise DataError("No numeric columns to cluster (" + ("; ".join(described) or
                                                              "no columns left") + ").")
    return roles


def _listing(names, limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _scaler(scale: str):
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}[scale]()


def build_column_transformer(numeric, categorical, *, scale="standard", impute="mean",
                             max_categories=10, prescale=False):
    """The ColumnTransformer for the chosen options (unfitted).

    ``prescale``: divide each numeric column by its largest magnitude first
    (:class:`clustra._magnitude.MagnitudeScaler`), for values so large (or small) that the
    imputer's and scaler's sums of squares would overflow (or underflow); the
    scalers are scale-invariant, so the result is the same up to rounding.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from clustra._magnitude import MagnitudeScaler

    parts = []
    if numeric:
        numeric_steps = [("prescale", MagnitudeScaler())] if prescale else []
        if impute != "drop":
            numeric_steps.append(("impute", SimpleImputer(strategy=impute)))
        if scale != "none":
            numeric_steps.append(("scale", _scaler(scale)))
        parts.append(("num", Pipeline(numeric_steps) if numeric_steps else "passthrough", numeric))
    if categorical:
        encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories,
                                sparse_output=False)
        categorical_steps = [("impute", SimpleImputer(strategy="most_frequent")),
                             ("onehot", encoder)]
        parts.append(("cat", Pipeline(categorical_steps), categorical))
    return ColumnTransformer(parts, verbose_feature_names_out=True)


def _needs_prescale(numeric_table, scale: str) -> bool:
    """Whether values are large enough for squares to overflow; an error if unscaled."""
    if numeric_table.shape[1] == 0:
        return False
    magnitude = numeric_table.abs().max(skipna=True)
    large = magnitude[magnitude > PRESCALE_ABOVE]
    tiny = magnitude[(magnitude > 0) & (magnitude < 1.0 / PRESCALE_ABOVE)]
    if large.empty:
        # Squares of values below 1e-154 underflow to 0: the scaler would see no spread.
        return not tiny.empty and scale != "none"
    if scale == "none":
        name = str(large.index[0])
        raise DataError(
            f"Column {name!r} holds values as large as {large.iloc[0]:.3g}: unscaled, their "
            "squared distances overflow (float64 ends near 1.8e308). Use scale='standard', "
            "'robust' or 'minmax', or divide the column by a constant first.")
    return True


def _outlier_mask(X, method: str, seed, fraction: float) -> np.ndarray:
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    # A fixed fraction rather than contamination="auto": IsolationForest's automatic
    # threshold flags half of a table of well-separated groups.
    if method == "iforest":
        detector = IsolationForest(contamination=fraction, random_state=seed)
    else:
        detector = LocalOutlierFactor(n_neighbors=min(20, X.shape[0] - 1), contamination=fraction)
    return detector.fit_predict(X) == -1


def prepare(frame, *, columns=None, id_column=None, scale="standard", impute="mean",
            remove_outliers="none", outlier_fraction=0.05, reduce=None, max_categories=10,
            seed=0) -> PreparedData:
    """Build and fit the preprocessing for ``frame``; see :class:`PreparedData`."""
    import pandas as pd
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline

    _check_choice("scale", scale, SCALERS)
    _check_choice("impute", impute, IMPUTERS)
    _check_choice("remove_outliers", remove_outliers, OUTLIER_METHODS)
    n_components = parse_reduce(reduce)
    if not 0.0 < outlier_fraction <= 0.5:
        raise OptionError(f"outlier_fraction= must be in (0, 0.5], got {outlier_fraction!r}.")
    if isinstance(max_categories, bool) or not isinstance(max_categories, int) \
            or max_categories < 2:
        raise OptionError(f"max_categories= must be an integer >= 2, got {max_categories!r}.")

    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    roles = column_roles(frame, columns, id_column)
    numeric, categorical, skipped = roles.numeric, roles.categorical, roles.skipped
    steps = [Step("columns", _describe_columns(numeric, categorical, skipped))]

    table = frame[numeric + categorical].copy()
    for name in numeric:
        table[name] = roles.values[name]
    n_infinite = roles.n_infinite
    prescale = _needs_prescale(table[numeric], scale)
    for name in categorical:
        # One type per column for the encoder: text, with NaN marking a gap.
        table[name] = table[name].map(lambda v: np.nan if pd.isna(v) else str(v)).astype(object)
    missing_any = table.isna().any(axis=1).to_numpy()
    missing_all = table.isna().all(axis=1).to_numpy()
    dropped = missing_any if impute == "drop" else missing_all
    if dropped.all():
        which = "a missing value" if impute == "drop" else "only missing values"
        used_names = _listing(numeric + categorical)
        raise DataError(f"Every row has {which} in the columns used ({used_names}); "
                        "nothing is left to cluster.")
    described = _describe_missing(impute, missing_any, missing_all)
    if n_infinite:
        described += f" ({n_infinite} infinite value(s) counted as missing.)"
    steps.append(Step("missing values", described))

    status = np.full(len(frame), STATUS_CLUSTERED, dtype=object)
    status[dropped] = STATUS_MISSING
    used = ~dropped
    transformer = build_column_transformer(numeric, categorical, scale=scale, impute=impute,
                                           max_categories=max_categories, prescale=prescale)
    pipeline = Pipeline([("columns", transformer)])
    X = np.asarray(pipeline.fit_transform(table.loc[used]), dtype=np.float64)
    feature_names = [str(n) for n in pipeline.get_feature_names_out()]
    steps.append(Step("scaling", _describe_scaling(scale, numeric) + (
        " Columns were first divided by their largest magnitude: values beyond "
        "1e100 or below 1e-100 would overflow or vanish in sums of squares." if prescale
        else "")))
    if categorical:
        steps.append(Step("one-hot encoding", _describe_onehot(transformer, categorical,
                                                              max_categories)))

    if remove_outliers != "none":
        if X.shape[0] < 3:
            raise DataError(f"Outlier removal needs at least 3 rows, only {X.shape[0]} remain.")
        outliers = _outlier_mask(X, remove_outliers, seed, outlier_fraction)
        if outliers.all():
            raise DataError("Outlier removal flagged every row; try remove_outliers='none'.")
        row_index = np.flatnonzero(used)
        status[row_index[outliers]] = STATUS_OUTLIER
        used[row_index[outliers]] = False
        X = X[~outliers]
        name = "IsolationForest" if remove_outliers == "iforest" else "LocalOutlierFactor"
        steps.append(Step("outliers", f"{name} (contamination {outlier_fraction:g}) flagged "
                                      f"{int(outliers.sum())} of "
                                      f"{outliers.size} rows as outliers; they keep their row "
                                      f"in the output with status '{STATUS_OUTLIER}'."))

    if n_components is not None:
        if isinstance(n_components, int) and n_components > min(X.shape):
            raise DataError(f"reduce='pca:{n_components}' asks for more components than the "
                            f"{X.shape[1]} features and {X.shape[0]} rows allow.")
        pca = PCA(n_components=n_components, random_state=seed).fit(X)
        X = pca.transform(X)
        pipeline.steps.append(("pca", pca))
        feature_names = [f"pc{i + 1}" for i in range(X.shape[1])]
        explained = 100.0 * float(pca.explained_variance_ratio_.sum())
        steps.append(Step("pca", f"PCA from {pca.n_features_in_} to {pca.n_components_} "
                                 f"components, keeping {explained:.1f}% of the variance."))
    return PreparedData(X=np.ascontiguousarray(X), used=used, status=status, pipeline=pipeline,
                        numeric_columns=numeric, categorical_columns=categorical,
                        skipped_columns=skipped, feature_names=feature_names, steps=steps,
                        notices=roles.notices, all_constant=roles.all_constant,
                        numeric_values={name: roles.values[name] for name in numeric})


def _describe_columns(numeric, categorical, skipped) -> str:
    text = f"{len(numeric)} numeric column(s)"
    if numeric:
        text += f" ({_listing(numeric)})"
    if categorical:
        text += f" and {len(categorical)} categorical column(s) ({_listing(categorical)})"
    text += " used."
    for name, reason in skipped.items():
        text += f" Skipped {name!r}: {reason}."
    return text


def _describe_missing(impute, missing_any, missing_all) -> str:
    n_any, n_all = int(missing_any.sum()), int(missing_all.sum())
    if n_any == 0:
        return "No missing values in the columns used."
    if impute == "drop":
        return (f"{n_any} row(s) with a missing value were left out of the clustering "
                f"(status '{STATUS_MISSING}').")
    text = (f"{n_any} row(s) with missing values: numeric gaps filled with the column {impute}, "
            "categorical gaps with the most frequent value (SimpleImputer).")
    if n_all:
        text += f" {n_all} row(s) with no value at all were left out (status '{STATUS_MISSING}')."
    return text


def _describe_scaling(scale, numeric) -> str:
    if not numeric:
        return "No numeric columns to scale."
    return {
        "standard": "StandardScaler: each numeric column to mean 0 and standard deviation 1.",
        "robust": "RobustScaler: each numeric column centred on its median, scaled by its IQR.",
        "minmax": "MinMaxScaler: each numeric column mapped to [0, 1].",
        "none": "No scaling: numeric columns used in their original units.",
    }[scale]


def _describe_onehot(transformer, categorical, max_categories) -> str:
    encoder = transformer.named_transformers_["cat"].named_steps["onehot"]
    counts = ", ".join(f"{name!r}: {len(cats)}" for name, cats in
                       zip(categorical, encoder.categories_, strict=True))
    return (f"OneHotEncoder on {len(categorical)} column(s) (categories seen: {counts}); at most "
            f"{max_categories} indicator columns each, rarer categories grouped as 'infrequent'.")
