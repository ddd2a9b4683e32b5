#!/usr/bin/env bash
# Sets up Cognito resources the way a team's infrastructure script does, with the
# AWS CLI v2, against ENDPOINT (argv 1): a user pool with tags, a resource server
# with custom scopes, a machine client (client_credentials, custom scope), a web
# client, a domain, a group with a role, a user, and an identity pool with roles,
# token-based role mapping and a developer provider. Prints the IDs as JSON on
# stdout.
# AWS (argv 2) is the AWS CLI v2 binary; tests pass /usr/bin/aws explicitly (a
# pyenv v1 shim may come first on PATH).
set -euo pipefail
endpoint=$1
aws=${2:-/usr/bin/aws}
export AWS_ACCESS_KEY_ID=AKIDSETUPEXAMPLE AWS_SECRET_ACCESS_KEY=setup-secret AWS_DEFAULT_REGION=eu-west-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
idp() { "$aws" --endpoint-url "$endpoint" --output json cognito-idp "$@"; }
ident() { "$aws" --endpoint-url "$endpoint" --output json cognito-identity "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

pool=$(idp create-user-pool --pool-name infra --user-pool-tags team=auth,env=test \
  --policies 'PasswordPolicy={MinimumLength=10,RequireUppercase=true,RequireLowercase=true,RequireNumbers=true,RequireSymbols=false}' \
  | field "['UserPool']['Id']")
idp create-resource-server --user-pool-id "$pool" --identifier orders --name Orders \
  --scopes ScopeName=read,ScopeDescription=Read ScopeName=write,ScopeDescription=Write >/dev/null
machine=$(idp create-user-pool-client --user-pool-id "$pool" --client-name machine --generate-secret \
  --allowed-o-auth-flows client_credentials --allowed-o-auth-scopes orders/read --allowed-o-auth-flows-user-pool-client \
  | field "['UserPoolClient']['ClientId']")
web=$(idp create-user-pool-client --user-pool-id "$pool" --client-name web \
  --explicit-auth-flows ALLOW_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH | field "['UserPoolClient']['ClientId']")
idp create-user-pool-domain --user-pool-id "$pool" --domain infra-test >/dev/null
idp create-group --user-pool-id "$pool" --group-name admins --precedence 1 \
  --role-arn arn:aws:iam::123456789012:role/admins >/dev/null
idp admin-create-user --user-pool-id "$pool" --username dana --message-action SUPPRESS \
  --user-attributes Name=email,Value=dana@example.com Name=email_verified,Value=true >/dev/null
idp admin-set-user-password --user-pool-id "$pool" --username dana --password Correct-Horse-7 --permanent
idp admin-add-user-to-group --user-pool-id "$pool" --username dana --group-name admins
provider="cognito-idp.eu-west-1.amazonaws.com/$pool"
idpool=$(ident create-identity-pool --identity-pool-name infra_ids --no-allow-unauthenticated-identities \
  --developer-provider-name login.infra.app \
  --cognito-identity-providers ProviderName="$provider",ClientId="$web",ServerSideTokenCheck=false \
  | field "['IdentityPoolId']")
ident set-identity-pool-roles --identity-pool-id "$idpool" \
  --roles authenticated=arn:aws:iam::123456789012:role/signed-in \
  --role-mappings "{\"$provider:$web\": {\"Type\": \"Token\", \"AmbiguousRoleResolution\": \"AuthenticatedRole\"}}"
printf '{"poolId":"%s","machineClientId":"%s","webClientId":"%s","identityPoolId":"%s"}\n' "$pool" "$machine" "$web" "$idpool"
