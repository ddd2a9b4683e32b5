"""Probe what a Cognito stand-in does, with boto3 and plain HTTP.

Usage: peer_compare.py ENDPOINT_URL

Runs the same probes against cogauth's emulator, moto's server and (when it is
installed) cognito-local; emulator/README.md's comparison table is what
emulator/compare_test.go asserts from this script's output. Each probe prints
true when the stand-in behaves as Cognito does, false otherwise (including when
it refuses the call). Prints one JSON object.
"""
import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PASSWORD = "Correct-Horse-1"
ROLE = "arn:aws:iam::123456789012:role/CognitoImportRole"


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def totp(secret, at):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def code_of(err):
    return err.response["Error"]["Code"]


def probe(fn):
    try:
        return bool(fn())
    except Exception:  # a refusal, an unknown operation, a malformed answer
        return False


def main(endpoint):
    idp = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(retries={"max_attempts": 1}))
    pool_id = idp.create_user_pool(PoolName="compare", AutoVerifiedAttributes=["email"],
                                   Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]

    # Usernames are e-mail addresses: cognito-local's pools take only those.
    def user(name):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": name}, {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)

    def sign_in(name, password=PASSWORD):
        return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": name, "PASSWORD": password})

    user("alice@example.com")
    out = {}

    def wrong_password():
        try:
            sign_in("alice@example.com", "Wrong-Horse-1")
        except ClientError as err:
            return code_of(err) == "NotAuthorizedException"
    out["wrongPasswordRefused"] = probe(wrong_password)

    def token_verifies():
        idt = sign_in("alice@example.com")["AuthenticationResult"]["IdToken"]
        head, body, sig = idt.split(".")
        header = json.loads(b64d(head))
        with urllib.request.urlopen(endpoint + "/" + pool_id + "/.well-known/jwks.json") as r:
            keys = json.load(r)["keys"]
        key = next(k for k in keys if k["kid"] == header["kid"])
        pub = rsa.RSAPublicNumbers(int.from_bytes(b64d(key["e"]), "big"), int.from_bytes(b64d(key["n"]), "big")).public_key()
        pub.verify(b64d(sig), (head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
        return header.get("alg") == "RS256"
    out["idTokenVerifiesWithJWKS"] = probe(token_verifies)

    def revoked_refresh():
        auth = sign_in("alice@example.com")["AuthenticationResult"]
        idp.revoke_token(Token=auth["RefreshToken"], ClientId=client_id)
        try:
            idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]})
        except ClientError as err:
            return code_of(err) == "NotAuthorizedException"
    out["revokedRefreshTokenRefused"] = probe(revoked_refresh)

    def totp_mfa():
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
        user("tom@example.com")
        tok = sign_in("tom@example.com")["AuthenticationResult"]["AccessToken"]
        secret = idp.associate_software_token(AccessToken=tok)["SecretCode"]
        idp.verify_software_token(AccessToken=tok, UserCode=totp(secret, time.time()))
        idp.set_user_mfa_preference(AccessToken=tok, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
        first = sign_in("tom@example.com")
        if first.get("ChallengeName") != "SOFTWARE_TOKEN_MFA":
            return False
        try:  # a wrong code is refused
            idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=first["Session"],
                                          ChallengeResponses={"USERNAME": "tom@example.com", "SOFTWARE_TOKEN_MFA_CODE": "000000" if totp(secret, time.time()) != "000000" else "111111"})
            return False
        except ClientError:
            pass
        second = sign_in("tom@example.com")
        done = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=second["Session"],
                                             ChallengeResponses={"USERNAME": "tom@example.com", "SOFTWARE_TOKEN_MFA_CODE": totp(secret, time.time() + 30)})
        return "AuthenticationResult" in done
    out["totpMFAChecked"] = probe(totp_mfa)

    def reset_required():
        user("rita@example.com")
        idp.admin_reset_user_password(UserPoolId=pool_id, Username="rita@example.com")
        try:
            sign_in("rita@example.com", "Any-Other-Password-1")
        except ClientError as err:
            return code_of(err) == "PasswordResetRequiredException"
    out["resetRequiredWhateverPassword"] = probe(reset_required)

    def custom_schema():
        names = [a["Name"] for a in idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]]
        return "custom:tier" in names and "sub" in names and "email" in names
    out["customAttributesPrefixed"] = probe(custom_schema)

    def csv_import():
        header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        row = {"cognito:username": "imported@example.com", "email": "imported@example.com", "email_verified": "true", "cognito:mfa_enabled": "false"}
        csv = ",".join(header) + "\n" + ",".join(row.get(h, "") for h in header) + "\n"
        job = idp.create_user_import_job(JobName="compare", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
        req = urllib.request.Request(job["PreSignedUrl"], data=csv.encode(), method="PUT",
                                     headers={"x-amz-server-side-encryption": "aws:kms"})
        urllib.request.urlopen(req, timeout=10).close()
        idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        for _ in range(20):
            if idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]["Status"] in ("Succeeded", "Failed"):
                break
        return idp.admin_get_user(UserPoolId=pool_id, Username="imported@example.com")["UserStatus"] == "RESET_REQUIRED"
    out["csvImportImportsUsers"] = probe(csv_import)

    def client_secrets():
        cid = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="backend", GenerateSecret=True)["UserPoolClient"]["ClientId"]
        idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=cid)
        return len(idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=cid)["ClientSecrets"]) == 2
    out["clientSecretRotation"] = probe(client_secrets)

    def terms():
        t = idp.create_terms(UserPoolId=pool_id, ClientId=client_id, TermsName="terms-of-use", TermsSource="LINK",
                             Enforcement="NONE", Links={"cognito:default": "https://example.com/terms"})["Terms"]
        return idp.describe_terms(UserPoolId=pool_id, TermsId=t["TermsId"])["Terms"]["TermsName"] == "terms-of-use"
    out["termsDocuments"] = probe(terms)

    def hosted_ui():
        q = "response_type=code&client_id=" + client_id + "&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&scope=openid"
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ClientName="app",
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                                    AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
                                    CallbackURLs=["http://localhost:3000/cb"], SupportedIdentityProviders=["COGNITO"])
        with urllib.request.urlopen(endpoint + "/oauth2/authorize?" + q, timeout=10) as r:
            page = r.read().decode("utf-8", "replace")
        return "password" in page and "<form" in page
    out["hostedUISignInPage"] = probe(hosted_ui)

    def bounded_echo():
        req = urllib.request.Request(endpoint + "/", data=b"{}", method="POST", headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService." + "A" * 6000})
        try:
            resp = urllib.request.urlopen(req, timeout=10)
        except urllib.error.HTTPError as err:
            resp = err
        body = resp.read()
        headers = sum(len(k) + len(v) for k, v in resp.headers.items())
        return len(body) < 2048 and headers < 4096
    out["unknownTargetEchoBounded"] = probe(bounded_echo)

    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
