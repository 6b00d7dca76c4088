#!/usr/bin/env bash
# Side-by-side timings of the OLS engine against statsmodels, in one run on one machine
# (ratios, not absolute times, are what to quote: shared machines are noisy).
#
#   bash tests/bench/compare.sh [ROWS_IN_PROCESS] [ROWS_CSV]
#
# Needs the .NET SDK and Debian's python3-statsmodels and python3-pandas (the script
# installs them with apt-get when missing and it runs as root). It writes its data under
# ${BENCH_DIR:-/tmp/resilience-bench}, prints each measurement and then the ratios.
#   1. in-process OLS + HC1 at n = ROWS_IN_PROCESS (default 1,000,000), k = 10:
#      `resilience bench ols` against statsmodels' OLS(...).fit(cov_type="HC1") on the same
#      generated numbers (written once as a .npy file), both timed inside their process;
#   2. the memory-bandwidth floor: one and two passes over X with numpy's sum;
#   3. whole processes on one CSV of ROWS_CSV rows (default 500,000) x 11 columns:
#      `resilience regress` against pandas.read_csv + statsmodels, wall time and peak RSS
#      from /usr/bin/time -v, median of 3;
#   4. a 47-row CSV, whole processes, the same two commands.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
NCSV=${2:-500000}
DIR=${BENCH_DIR:-/tmp/resilience-bench}
mkdir -p "$DIR"

if ! /usr/bin/python3 -c 'import statsmodels, pandas' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-statsmodels python3-pandas time >/dev/null
  else
    echo "compare.sh needs python3-statsmodels and python3-pandas (apt-get install them)" >&2; exit 2
  fi
fi
[ -x /usr/bin/time ] || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
PY=/usr/bin/python3

echo "== building the CLI (Release)"
# Published ReadyToRun for this machine (as a user would deploy it): no JIT at start.
dotnet publish orchestrator/ResilienceGrpc.Cli -c Release --use-current-runtime --self-contained false -o "$DIR/cli" -v quiet -nologo >/dev/null
CLI="$DIR/cli/resilience"

echo "== data"
$PY - "$N" "$NCSV" "$DIR" <<'PYEOF'
import sys, numpy as np
n, ncsv, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# In-process, each side times its own generated data of one shape and distribution
# (`bench ols` uses BenchVerbs.Generate, the same model as below); OLS work does not depend
# on the values. The whole-process runs share one CSV file.
rng = np.random.default_rng(20200123)
def make(rows):
    X = rng.uniform(0, 10, size=(rows, 9))
    y = 1 + (X / np.arange(1, 10)).sum(axis=1) + (rng.uniform(size=rows) - 0.5) * (1 + X[:, 0])
    return X, y
X, y = make(n)
np.save(f"{d}/X.npy", np.column_stack([np.ones(n), X])); np.save(f"{d}/y.npy", y)
for rows, name in ((ncsv, "big.csv"), (47, "small.csv")):
    Xc, yc = make(rows)
    Xc = np.column_stack([Xc, rng.uniform(0, 10, size=rows)])   # 10 regressors + y = 11 columns
    header = "y," + ",".join(f"x{j}" for j in range(1, 11))
    np.savetxt(f"{d}/{name}", np.column_stack([yc, Xc]), delimiter=",", header=header, comments="", fmt="%.17g")
PYEOF

echo "== 1. in-process OLS + HC1, n = $N, k = 10"
# 21 runs: on a shared 2-core machine a median of 7 moves by 2x from run to run.
OURS=$("$CLI" bench ols --n "$N" --k 10 --vce hc1 --runs 21 --warmup 3)
echo "resilience: $OURS"
SM=$($PY - "$DIR" <<'PYEOF'
import sys, time, json, numpy as np, statsmodels.api as sm
d = sys.argv[1]
X = np.load(f"{d}/X.npy"); y = np.load(f"{d}/y.npy")
ts = []
for i in range(5):
    t = time.perf_counter(); r = sm.OLS(y, X).fit(cov_type="HC1"); r.bse; ts.append((time.perf_counter() - t) * 1000)
ts.sort()
# bandwidth floor: one pass and two passes over X (numpy sum, in-cache effects excluded by size)
one = []; two = []
for i in range(5):
    t = time.perf_counter(); X.sum(); one.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter(); X.sum(); X.sum(); two.append((time.perf_counter() - t) * 1000)
print(json.dumps({"statsmodels_median_ms": ts[len(ts)//2], "floor_one_pass_ms": sorted(one)[2], "floor_two_pass_ms": sorted(two)[2]}))
PYEOF
)
echo "statsmodels: $SM"

whole() { # median wall seconds and peak RSS (MB) of 3 runs of a command
  local out w=() m=()
  for i in 1 2 3; do
    /usr/bin/time -o "$DIR/time.txt" -f "%e %M" "$@" >/dev/null 2>"$DIR/stderr.txt" || { echo "failed: $* ($(tail -1 "$DIR/stderr.txt"))" >&2; exit 1; }
    out=$(tail -1 "$DIR/time.txt")
    w+=("${out% *}"); m+=("${out#* }")
  done
  printf '%s %s\n' "$(printf '%s\n' "${w[@]}" | sort -n | sed -n 2p)" "$(printf '%s\n' "${m[@]}" | sort -n | sed -n 2p)"
}
PYCSV='import sys, pandas as pd, statsmodels.api as sm; d = pd.read_csv(sys.argv[1]); X = sm.add_constant(d[[f"x{j}" for j in range(1, 11)]]); print(sm.OLS(d["y"], X).fit(cov_type="HC1").params.iloc[1])'
X10="x1,x2,x3,x4,x5,x6,x7,x8,x9,x10"

echo "== 3. whole process, CSV of $NCSV rows x 11 columns"
R_BIG=$(whole "$CLI" regress --data "$DIR/big.csv" --y y --x "$X10" --vce hc1)
P_BIG=$(whole $PY -c "$PYCSV" "$DIR/big.csv")
echo "resilience regress: ${R_BIG% *} s, ${R_BIG#* } KB peak RSS"
echo "pandas+statsmodels: ${P_BIG% *} s, ${P_BIG#* } KB peak RSS"

echo "== 4. whole process, CSV of 47 rows"
R_SMALL=$(whole "$CLI" regress --data "$DIR/small.csv" --y y --x "$X10" --vce hc1)
P_SMALL=$(whole $PY -c "$PYCSV" "$DIR/small.csv")
echo "resilience regress: ${R_SMALL% *} s; python: ${P_SMALL% *} s"

echo "== ratios (resilience / peer; below 1 is faster)"
$PY - "$OURS" "$SM" "$R_BIG" "$P_BIG" "$R_SMALL" "$P_SMALL" "$NCSV" <<'PYEOF'
import sys, json
ours, sm = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rb, pb, rs, ps = (list(map(float, a.split())) for a in sys.argv[3:7])
ncsv = int(sys.argv[7])
payload_mb = ncsv * 11 * 8 / 1e6
print(f"in-process fit / statsmodels:        {ours['median_ms'] / sm['statsmodels_median_ms']:.4f}  ({ours['median_ms']:.1f} ms vs {sm['statsmodels_median_ms']:.1f} ms)")
print(f"in-process fit / two-pass floor:     {ours['median_ms'] / sm['floor_two_pass_ms']:.2f}  (floor {sm['floor_two_pass_ms']:.1f} ms, one pass {sm['floor_one_pass_ms']:.1f} ms)")
print(f"CSV regress / pandas+statsmodels:    {rb[0] / pb[0]:.3f}  ({rb[0]:.2f} s vs {pb[0]:.2f} s)")
print(f"CSV regress peak RSS:                {rb[1] / 1024:.0f} MB (numeric payload {payload_mb:.0f} MB); pandas+statsmodels {pb[1] / 1024:.0f} MB")
print(f"small CSV regress / python:          {rs[0] / ps[0]:.3f}  ({rs[0]:.2f} s vs {ps[0]:.2f} s)")
PYEOF
