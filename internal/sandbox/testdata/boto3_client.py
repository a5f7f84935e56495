"""Drive the sandbox with boto3, as an independent client.

Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the account to
audit (argv[1]) and prints one JSON object with what it saw.
"""
import base64
import json
import os
import sys
import time

import boto3
import botocore.exceptions

endpoint = os.environ["AWS_ENDPOINT_URL"]
target = sys.argv[1]
mgmt = boto3.session.Session(region_name="us-east-1")
out = {}

orgs = mgmt.client("organizations", endpoint_url=endpoint)
accounts = []
for page in orgs.get_paginator("list_accounts").paginate():
    accounts.extend(a["Id"] for a in page["Accounts"])
out["accounts"] = len(accounts)

sts = mgmt.client("sts", endpoint_url=endpoint)
creds = sts.assume_role(RoleArn=f"arn:aws:iam::{target}:role/IAMAuditRole", RoleSessionName="boto3")["Credentials"]
session = boto3.session.Session(
    aws_access_key_id=creds["AccessKeyId"],
    aws_secret_access_key=creds["SecretAccessKey"],
    aws_session_token=creds["SessionToken"],
    region_name="us-east-1",
)
out["caller"] = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Arn"]

iam = session.client("iam", endpoint_url=endpoint)
users = []
for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1}):
    users.extend(u["UserName"] for u in page["Users"])
out["users"] = users

state = iam.generate_credential_report()["State"]
for _ in range(50):
    try:
        report = iam.get_credential_report()
        break
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "ReportInProgress":
            raise
        time.sleep(0.1)
content = report["Content"].decode()
out["report_state"] = state
out["report_header"] = content.splitlines()[0]
out["report_first_user"] = content.splitlines()[1].split(",")[0]

ct = session.client("cloudtrail", endpoint_url=endpoint)
events = []
for page in ct.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 1}):
    events.extend(e["EventName"] for e in page["Events"])
out["events"] = events

bad = boto3.session.Session(
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong", region_name="us-east-1"
)
try:
    bad.client("sts", endpoint_url=endpoint).get_caller_identity()
    out["wrong_secret"] = "accepted"
except botocore.exceptions.ClientError as e:
    out["wrong_secret"] = e.response["Error"]["Code"]

print(json.dumps(out))
