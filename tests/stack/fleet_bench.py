"""Measure the EKS simulator serving a generated fleet through boto3.

Usage: fleet_bench.py URL ACCOUNTS REGIONS — with a fleet from
`eks-sim generate --accounts ACCOUNTS --regions REGIONS ...` loaded. For every account and
region it lists the clusters (paginated) and describes each one (which also starts each
cluster's HTTPS Kubernetes API), then prints counts and timings as one JSON line.
"""

import json
import sys
import time

import boto3

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
           "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]


def main() -> int:
    url, accounts, regions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    started = time.perf_counter()
    calls = clusters = 0
    for a in range(accounts):
        account = f"{100_000_000_000 + a:012d}"
        session = boto3.session.Session(
            aws_access_key_id=f"AKIASIM{account}",
            aws_secret_access_key=f"sim-secret-{account}",
        )
        for region in REGIONS[:regions]:
            eks = session.client("eks", region_name=region, endpoint_url=url)
            for page in eks.get_paginator("list_clusters").paginate(maxResults=2):
                calls += 1
                for name in page["clusters"]:
                    eks.describe_cluster(name=name)
                    calls += 1
                    clusters += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"clusters": clusters, "calls": calls, "seconds": round(elapsed, 2),
                      "calls_per_second": round(calls / elapsed, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
