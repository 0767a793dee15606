"""Markdown report of benchmarks/compare-hnswlib: each round's build rate and per-ef recall and QPS, side by side.
   report.py DIR ROUNDS N COMMIT HNSWLIB_VERSION MACHINE   (reads DIR/papervec-R.json and DIR/hnswlib-R.json)"""
import json
import sys

out, rounds, n, commit, version, machine = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]


def best(runs, floor=0.95):
    ok = [r for r in runs if r["recall"] >= floor]
    return max(ok, key=lambda r: r["qps"]) if ok else None


print(f"# PaperVec vs hnswlib ({n:,} clustered 384-d unit vectors, commit {commit})\n")
print("Same data, queries and exact ground truth, in the same run: M=16, efConstruction=200, one build")
print("thread, one search thread, k=10. hnswlib is Debian's libhnswlib-dev " + version + ", inner-product space,")
print("built with g++ -O3 -march=native. Ratio = PaperVec / hnswlib. Command: `benchmarks/compare-hnswlib`.")
print(f"Machine: {machine}.\n")
for r in range(1, rounds + 1):
    pv = json.load(open(f"{out}/papervec-{r}.json"))
    hn = json.load(open(f"{out}/hnswlib-{r}.json"))
    first = "PaperVec" if r % 2 == 1 else "hnswlib"
    pb, hb = pv["build"]["insertsPerSecond"], hn["build"]["insertsPerSecond"]
    print(f"## Round {r} ({first} first)\n")
    print(f"Build: PaperVec {pb:,.0f} inserts/s, hnswlib {hb:,.0f} inserts/s, ratio **{pb / hb:.2f}**.\n")
    print("| ef | PaperVec recall@10 | hnswlib recall@10 | PaperVec QPS | hnswlib QPS | QPS ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for a, b in zip(pv["runs"], hn["runs"]):
        print(f"| {a['ef']} | {a['recall']:.4f} | {b['recall']:.4f} | {a['qps']:,.0f} | {b['qps']:,.0f} | {a['qps'] / b['qps']:.2f} |")
    ba, bb = best(pv["runs"]), best(hn["runs"])
    if ba and bb:
        print(f"\nBest QPS at recall >= 0.95: PaperVec {ba['qps']:,.0f} (ef={ba['ef']}, {ba['recall']:.4f}), "
              f"hnswlib {bb['qps']:,.0f} (ef={bb['ef']}, {bb['recall']:.4f}), ratio **{ba['qps'] / bb['qps']:.2f}**.\n")
    else:
        print("\nOne of them reached recall 0.95 at none of the ef values given.\n")
