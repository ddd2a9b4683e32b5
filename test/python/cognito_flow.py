"""Set up a user pool with boto3 and sign in, refresh and sign out against it.

Usage: cognito_flow.py ENDPOINT_URL

The same calls work on moto's server and on cogauth's emulator; the Go test
emulator/boto3_test.go runs this script against both. It prints one JSON object
with what it saw (never a token) and exits non-zero on the first surprise.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PASSWORD = "Correct-Horse-1"


def main(endpoint):
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    pool = idp.create_user_pool(PoolName="boto3-pool")["UserPool"]
    pool_id = pool["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="boto3-client",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    client_id = client["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="bob",
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username="bob", Password=PASSWORD, Permanent=True)
    status = idp.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"]

    try:
        idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "bob", "PASSWORD": "Wrong-Horse-1"},
        )
        wrong_password = "accepted"
    except ClientError as err:
        wrong_password = err.response["Error"]["Code"]

    auth = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    user = idp.get_user(AccessToken=auth["AccessToken"])
    refreshed = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]},
    )["AuthenticationResult"]
    user_after_refresh = idp.get_user(AccessToken=refreshed["AccessToken"])["Username"]
    idp.global_sign_out(AccessToken=refreshed["AccessToken"])
    try:
        idp.get_user(AccessToken=refreshed["AccessToken"])
        after_sign_out = "accepted"
    except ClientError as err:
        after_sign_out = err.response["Error"]["Code"]

    print(json.dumps({
        "userStatus": status,
        "wrongPassword": wrong_password,
        "username": user["Username"],
        "email": {a["Name"]: a["Value"] for a in user["UserAttributes"]}.get("email"),
        "tokenType": auth["TokenType"],
        "expiresIn": auth["ExpiresIn"],
        "refreshHasNewRefreshToken": "RefreshToken" in refreshed,
        "usernameAfterRefresh": user_after_refresh,
        "getUserAfterSignOut": after_sign_out,
    }, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
