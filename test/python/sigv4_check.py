"""boto3 against an emulator that verifies SigV4 (argv: endpoint, access key,
secret, pool ID): a correctly signed admin call, one signed with a wrong secret,
one with an unknown key, and an unsigned one. Prints {case: "ok" | error code}."""
import json
import sys

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key, secret, pool = sys.argv[1:5]


def attempt(**kw):
    c = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1", **kw)
    try:
        c.describe_user_pool(UserPoolId=pool)
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


print(json.dumps({
    "signed": attempt(aws_access_key_id=key, aws_secret_access_key=secret),
    "wrongSecret": attempt(aws_access_key_id=key, aws_secret_access_key=secret + "x"),
    "unknownKey": attempt(aws_access_key_id="AKIDUNKNOWN0000", aws_secret_access_key=secret),
    "unsigned": attempt(config=Config(signature_version=UNSIGNED)),
    "sessionToken": attempt(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token="token-from-sts"),
}))
