"""Creates a user pool, an app client and a user through boto3 signing for
eu-west-1 (SigV4 with test credentials) against the endpoint in argv[1]; prints
{"poolId", "clientId", "arn"} as JSON. Used by emulator/region_test.go."""
import json
import sys

import boto3

c = boto3.client(
    "cognito-idp",
    endpoint_url=sys.argv[1],
    region_name="eu-west-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
)
pool = c.create_user_pool(PoolName="regional")["UserPool"]
client = c.create_user_pool_client(
    UserPoolId=pool["Id"], ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
)["UserPoolClient"]
c.admin_create_user(UserPoolId=pool["Id"], Username="erin", MessageAction="SUPPRESS")
c.admin_set_user_password(UserPoolId=pool["Id"], Username="erin", Password="Correct-Horse-7", Permanent=True)
print(json.dumps({"poolId": pool["Id"], "clientId": client["ClientId"], "arn": pool["Arn"]}))
