"""Drive the EKS simulator with boto3: a second, independent AWS client.

Expects AWS_ENDPOINT_URL_EKS, credentials and region in the environment (the conformance
seed's admin credentials), and EAM_MOTO_URL to also ask moto's STS who we are. Exits non-zero
on the first mismatch.
"""

import os
import sys

import boto3
from botocore.exceptions import ClientError


def main() -> int:
    eks = boto3.client("eks")
    clusters = eks.list_clusters(maxResults=2)
    assert clusters["clusters"] == ["hybrid", "legacy"], clusters
    assert "nextToken" in clusters and clusters["nextToken"], clusters

    cluster = eks.describe_cluster(name="legacy")["cluster"]
    assert cluster["accessConfig"]["authenticationMode"] == "CONFIG_MAP", cluster
    assert cluster["endpoint"].startswith("https://127.0.0.1:"), cluster
    assert cluster["createdAt"].year >= 2024, cluster

    entry = eks.create_access_entry(
        clusterName="modern",
        principalArn="arn:aws:iam::111122223333:role/team",
        kubernetesGroups=["team-editors"],
    )["accessEntry"]
    assert entry["type"] == "STANDARD", entry

    try:
        eks.create_access_entry(
            clusterName="modern",
            principalArn="arn:aws:iam::111122223333:role/team",
            kubernetesGroups=["system:masters"],
        )
    except ClientError as e:
        err = e.response["Error"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert err["Code"] == "InvalidParameterException", err
        assert err["Message"] == (
            "The kubernetes group name system:masters is invalid, it cannot start with system:"
        ), err
    else:
        print("expected InvalidParameterException", file=sys.stderr)
        return 1

    try:
        eks.list_access_entries(clusterName="legacy")
    except eks.exceptions.InvalidRequestException as e:
        assert "authentication mode" in str(e), e
    else:
        print("expected InvalidRequestException", file=sys.stderr)
        return 1

    moto_url = os.environ.get("EAM_MOTO_URL")
    if moto_url:
        sts = boto3.client("sts", endpoint_url=moto_url)
        identity = sts.get_caller_identity()
        assert identity["Account"], identity

    print("boto3 smoke: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
