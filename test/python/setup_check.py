"""Reads back, with boto3, what test/setup/cognito-setup.sh made (argv: endpoint,
then its JSON output) and prints what it found as JSON."""
import json
import sys

import boto3

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
print(json.dumps({
    "poolName": pool["Name"], "minimumLength": pool["Policies"]["PasswordPolicy"]["MinimumLength"],
    "scopes": sorted(s["ScopeName"] for s in rs["Scopes"]),
    "domainPool": dom["UserPoolId"], "machineScopes": machine["AllowedOAuthScopes"],
    "machineSecret": machine["ClientSecret"],
    "groupRole": group["RoleArn"], "members": [u["Username"] for u in members], "tags": tags,
    "authenticatedRole": roles["Roles"]["authenticated"],
    "roleMappingType": list(roles["RoleMappings"].values())[0]["Type"],
}))
