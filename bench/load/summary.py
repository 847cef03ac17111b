"""Print p50/p95/p99, error rate and RPS per endpoint from a locust --csv stats file."""
import csv
import sys

READS = ("GET",)


def main(path: str) -> None:
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    print(f"{'endpoint':48} {'reqs':>6} {'err%':>6} {'p50':>5} {'p95':>5} {'p99':>5} {'rps':>6}")
    for r in rows:
        n = int(r["Request Count"])
        if not n:
            continue
        name = (r["Type"] + " " + r["Name"]) if r["Name"] != "Aggregated" else "ALL"
        err = 100 * int(r["Failure Count"]) / n
        print(f"{name[:48]:48} {n:6d} {err:6.2f} {r['50%']:>5} {r['95%']:>5} {r['99%']:>5} "
              f"{float(r['Requests/s']):6.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
