"""Reads back, with boto3, what test/setup/cognito-setup.sh made (argv: endpoint,
then its JSON output) and prints what it found as JSON. It also checks that the
identity pool's role mapping is applied: dana signs in, gets credentials, and
STS GetCallerIdentity (boto3, signing with those credentials) names the role of
her group; a rules-based mapping then chooses by claim, and Deny refuses; a
developer-authenticated identity gets the authenticated role."""
import json
import sys

import boto3
import botocore
import botocore.config

endpoint, made = sys.argv[1], json.loads(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="AKIDSETUPEXAMPLE", aws_secret_access_key="setup-secret")
idp = boto3.client("cognito-idp", **kw)
ident = boto3.client("cognito-identity", **kw)
pool = idp.describe_user_pool(UserPoolId=made["poolId"])["UserPool"]
rs = idp.describe_resource_server(UserPoolId=made["poolId"], Identifier="orders")["ResourceServer"]
dom = idp.describe_user_pool_domain(Domain="infra-test")["DomainDescription"]
machine = idp.describe_user_pool_client(UserPoolId=made["poolId"], ClientId=made["machineClientId"])["UserPoolClient"]
group = idp.get_group(UserPoolId=made["poolId"], GroupName="admins")["Group"]
members = idp.list_users_in_group(UserPoolId=made["poolId"], GroupName="admins")["Users"]
tags = idp.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"]
roles = ident.get_identity_pool_roles(IdentityPoolId=made["identityPoolId"])


def who(creds):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretKey"], aws_session_token=creds["SessionToken"])
    return sts.get_caller_identity()["Arn"]


anon = boto3.client("cognito-identity", endpoint_url=endpoint, region_name="eu-west-1",
                    config=botocore.config.Config(signature_version=botocore.UNSIGNED))


def caller(login_key, rules=None):
    """dana's credentials through the identity pool, then who STS says they are
    (or the error code Cognito answered)."""
    if rules is not None:
        ident.set_identity_pool_roles(IdentityPoolId=made["identityPoolId"], Roles=roles["Roles"], RoleMappings={
            login_key: {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": rules}}})
    tok = idp.initiate_auth(ClientId=made["webClientId"], AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "dana", "PASSWORD": "Correct-Horse-7"})["AuthenticationResult"]["IdToken"]
    logins = {provider: tok}
    ident_id = anon.get_id(IdentityPoolId=made["identityPoolId"], Logins=logins)["IdentityId"]
    try:
        creds = anon.get_credentials_for_identity(IdentityId=ident_id, Logins=logins)["Credentials"]
    except anon.exceptions.NotAuthorizedException as e:
        return e.response["Error"]["Code"]
    return who(creds)


provider = "cognito-idp.eu-west-1.amazonaws.com/" + made["poolId"]
key = provider + ":" + made["webClientId"]
token_caller = caller(key)
rule = {"Claim": "email", "MatchType": "Contains", "Value": "@example.com", "RoleARN": "arn:aws:iam::123456789012:role/example-users"}
rules_caller = caller(key, [rule])
denied = caller(key, [dict(rule, Value="@example.net")])
# A developer-authenticated identity: the backend (signed) registers a user, the
# app trades the OpenID token for credentials of the authenticated role.
dev = ident.get_open_id_token_for_developer_identity(IdentityPoolId=made["identityPoolId"],
                                                     Logins={"login.infra.app": "user-42"}, TokenDuration=600)
dev_creds = anon.get_credentials_for_identity(IdentityId=dev["IdentityId"],
                                              Logins={"cognito-identity.amazonaws.com": dev["Token"]})["Credentials"]
dev_lookup = ident.lookup_developer_identity(IdentityPoolId=made["identityPoolId"], DeveloperUserIdentifier="user-42")
print(json.dumps({
    "poolName": pool["Name"], "minimumLength": pool["Policies"]["PasswordPolicy"]["MinimumLength"],
    "scopes": sorted(s["ScopeName"] for s in rs["Scopes"]),
    "domainPool": dom["UserPoolId"], "machineScopes": machine["AllowedOAuthScopes"],
    "machineSecret": machine["ClientSecret"],
    "groupRole": group["RoleArn"], "members": [u["Username"] for u in members], "tags": tags,
    "authenticatedRole": roles["Roles"]["authenticated"],
    "roleMappingType": list(roles["RoleMappings"].values())[0]["Type"],
    "developerCaller": who(dev_creds), "developerLookup": dev_lookup["IdentityId"] == dev["IdentityId"],
    "developerProvider": ident.describe_identity_pool(IdentityPoolId=made["identityPoolId"])["DeveloperProviderName"],
    "tokenMappedCaller": token_caller, "rulesMappedCaller": rules_caller, "deniedByRules": denied,
}))
