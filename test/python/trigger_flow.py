"""Configure Lambda triggers with boto3, as on AWS, and use them through the emulator.

Usage: trigger_flow.py ENDPOINT_URL

The emulator runs with --lambda-endpoint pointing at test/python/lambda_server.py,
whose function names are the last part of the ARNs below. The script prints one
JSON object with what it saw (never a token or a password); the Go test
emulator/triggers_python_test.go checks it.
"""
import base64
import json
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PASSWORD = "Correct-Horse-1"


def arn(name):
    return "arn:aws:lambda:us-east-1:000000000000:function:" + name


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as err:
        return err.response["Error"]["Code"] + ": " + err.response["Error"]["Message"]
    return "no error"


def main(endpoint):
    idp = boto3.client(
        "cognito-idp", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    out = {}
    lambda_config = {
        "PreSignUp": arn("presignup"),
        "CustomMessage": arn("message"),
        "UserMigration": arn("migrate"),
        "PreTokenGeneration": arn("pretoken"),
        "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn("pretoken")},
        "DefineAuthChallenge": arn("define"),
        "CreateAuthChallenge": arn("create"),
        "VerifyAuthChallengeResponse": arn("verify"),
    }
    pool_id = idp.create_user_pool(
        PoolName="triggers", AutoVerifiedAttributes=["email"], LambdaConfig=lambda_config,
    )["UserPool"]["Id"]
    echoed = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("LambdaConfig", {})
    out["lambdaConfigEchoed"] = echoed == lambda_config
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    out["clientId"] = client_id

    # PreSignUp: auto-confirm and verify e-mail, or refuse.
    signed = idp.sign_up(ClientId=client_id, Username="zoe", Password=PASSWORD,
                         UserAttributes=[{"Name": "email", "Value": "zoe@example.com"}])
    out["signUpConfirmed"] = signed["UserConfirmed"]
    user = idp.admin_get_user(UserPoolId=pool_id, Username="zoe")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    out["statusAfterSignUp"] = user["UserStatus"]
    out["emailVerified"] = attrs.get("email_verified")
    out["refusedSignUp"] = error_of(idp.sign_up, ClientId=client_id, Username="mal", Password=PASSWORD,
                                    UserAttributes=[{"Name": "email", "Value": "mal@evil.test"}])

    # PreTokenGeneration V2: a claim and a scope in the access token, a claim in the id token.
    auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "zoe", "PASSWORD": PASSWORD})["AuthenticationResult"]
    access, id_token = claims(auth["AccessToken"]), claims(auth["IdToken"])
    out["accessTenant"] = access.get("tenant")
    out["accessRoles"] = access.get("roles")
    out["accessScope"] = access.get("scope")
    out["idPlan"] = id_token.get("plan")
    out["idTenant"] = id_token.get("tenant")
    # The access token still works for the user's own calls.
    out["getUser"] = idp.get_user(AccessToken=auth["AccessToken"])["Username"]

    # UserMigration from the legacy password table.
    out["migrationWrongPassword"] = error_of(idp.initiate_auth, ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": "legacy-lee", "PASSWORD": "Wrong-Password-1"})
    migrated = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "legacy-lee", "PASSWORD": "Old-Password-1"})
    out["migrationSignedIn"] = "AuthenticationResult" in migrated
    lee = idp.admin_get_user(UserPoolId=pool_id, Username="legacy-lee")
    out["migratedStatus"] = lee["UserStatus"]
    out["migratedEmail"] = {a["Name"]: a["Value"] for a in lee["UserAttributes"]}.get("email")

    # CustomMessage: the forgot-password e-mail is the function's.
    delivery = idp.forgot_password(ClientId=client_id, Username="zoe")["CodeDeliveryDetails"]
    out["forgotDelivery"] = delivery["DeliveryMedium"]
    with urllib.request.urlopen(endpoint + "/_emulator/codes?poolId=" + pool_id + "&username=zoe") as r:
        msgs = json.load(r)["messages"]
    last = msgs[-1]
    out["messageSubject"] = last.get("subject")
    out["messageHasCode"] = last["body"] == "Hi zoe, your Acme code is " + last["code"]

    # CUSTOM_AUTH: a math challenge, one wrong answer then the right one.
    ch = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "zoe"})
    out["customChallenge"] = ch["ChallengeName"]
    ch = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=ch["Session"],
                                       ChallengeResponses={"USERNAME": "zoe", "ANSWER": "0"})
    a, b = ch["ChallengeParameters"]["question"].split(" * ")
    done = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=ch["Session"],
                                         ChallengeResponses={"USERNAME": "zoe", "ANSWER": str(int(a) * int(b))})
    out["customSignedIn"] = claims(done["AuthenticationResult"]["IdToken"])["cognito:username"]

    # Failing, slow and garbled functions give Cognito's errors.
    for case in ("failing", "slow", "garbage", "missing"):
        pid = idp.create_user_pool(PoolName=case, LambdaConfig={"PreSignUp": arn(case)})["UserPool"]["Id"]
        cid = idp.create_user_pool_client(UserPoolId=pid, ClientName="app")["UserPoolClient"]["ClientId"]
        out[case] = error_of(idp.sign_up, ClientId=cid, Username="x", Password=PASSWORD)

    with urllib.request.urlopen(endpoint + "/_emulator/lambda/invocations?poolId=" + pool_id) as r:
        invocations = json.load(r)["invocations"]
    out["triggerSources"] = sorted({i["triggerSource"] for i in invocations})
    out["passwordInLog"] = any("Old-Password-1" in json.dumps(i) for i in invocations)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
