#!/usr/bin/env python3
"""Reruns every fitted model of a study report from its analysis.csv with statsmodels.

    python3 tests/tools/rerun_tables.py REPORT_DIR [TOLERANCE]

Reads REPORT_DIR/analysis.csv and REPORT_DIR/results.json, refits each model of every
regression table by OLS (statsmodels, an independent implementation) on the complete
cases of its variables, with the study's covariance type, and compares each coefficient
and standard error with results.json (relative difference, default tolerance 1e-10).
A model with weighting W reads the column of each variable whose weighting is W, or
else the variable's one column (README, "Replicating a table"). Product terms a*b are
the products of the two columns. Prints one summary line; exits 1 on any mismatch.
"""
import csv
import json
import math
import sys

import numpy as np
import statsmodels.api as sm

report_dir = sys.argv[1]
tol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-10

with open(f"{report_dir}/analysis.csv", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
data = {name: np.array([float(r[j]) if r[j] != "" else math.nan for r in body]) for j, name in enumerate(header) if j > 0}

with open(f"{report_dir}/results.json") as f:
    report = json.load(f)
columns = report["analysis"]["columns"]
cov = report["manifest"]["spec"]["covarianceType"]
cov_type = {"COVARIANCE_TYPE_CLASSICAL": "nonrobust", "COVARIANCE_TYPE_HC0": "HC0", "COVARIANCE_TYPE_HC1": "HC1",
            "COVARIANCE_TYPE_HC2": "HC2", "COVARIANCE_TYPE_HC3": "HC3"}[cov]


def column(variable, weighting):
    exact = [c["name"] for c in columns if c["variable"] == variable and c.get("weighting") == weighting]
    plain = [c["name"] for c in columns if c["variable"] == variable
             and c.get("weighting", "WEIGHTING_METHOD_UNSPECIFIED") == "WEIGHTING_METHOD_UNSPECIFIED"]
    names = exact or plain
    if len(names) != 1:
        sys.exit(f"no single analysis column for {variable} under {weighting}: {names}")
    return data[names[0]]


models = terms = 0
worst = 0.0
failures = []
for table in report["tables"]:
    for m in table.get("models", []):
        fit = m.get("fit")
        if not fit or not fit.get("coefficients"):
            continue
        w = m.get("weighting", "WEIGHTING_METHOD_UNSPECIFIED")
        spec = m["spec"]
        y = column(spec["dependent"], w)
        xs = []
        for term in spec["regressors"]:
            value = np.ones(len(y))
            for factor in term.split("*"):
                value = value * column(factor, w)
            xs.append(value)
        X = np.column_stack(xs + [np.ones(len(y))])  # slopes, then the constant (_cons), as the report
        keep = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
        res = sm.OLS(y[keep], X[keep]).fit(cov_type=cov_type)
        got = fit["coefficients"]
        if len(got) != X.shape[1] or int(fit["model"]["nObs"]) != int(keep.sum()):
            failures.append(f"{table['id']} {spec['label']}: {len(got)} terms and n = {fit['model']['nObs']}, statsmodels {X.shape[1]} and {keep.sum()}")
            continue
        models += 1
        for i, c in enumerate(got):
            for ours, theirs, what in ((c["estimate"], res.params[i], "estimate"), (c["stdError"], res.bse[i], "std. error")):
                rel = abs(ours - theirs) / max(abs(theirs), 1e-300)
                worst = max(worst, rel)
                if rel > tol:
                    failures.append(f"{table['id']} {spec['label']} {c['term']} {what}: {ours!r} vs statsmodels {theirs!r} (relative {rel:.2e})")
            terms += 1

print(json.dumps({"models": models, "terms": terms, "max_relative_difference": worst, "covariance": cov_type,
                  "failures": failures}))
sys.exit(1 if failures or models == 0 else 0)
