package emulator

// operations is the emulator's one table of operations: every X-Amz-Target it
// serves, by family, with the file that holds each family's handlers. Cognito
// user pools are AWSCognitoIdentityProviderService (idpService), identity pools
// AWSCognitoIdentityService (identityService). A target listed twice does not
// compile. The hosted UI, OAuth 2.0, JWKS and STS are paths (Emulator.routes).
var operations = map[string]handlerFunc{
	// ---- user pools (AWSCognitoIdentityProviderService) ----

	// user pools and their MFA configuration (pools.go)
	idpService + "CreateUserPool":       typed((*Emulator).opCreateUserPool),
	idpService + "DescribeUserPool":     typed((*Emulator).opDescribeUserPool),
	idpService + "UpdateUserPool":       typed((*Emulator).opUpdateUserPool),
	idpService + "DeleteUserPool":       typed((*Emulator).opDeleteUserPool),
	idpService + "ListUserPools":        typed((*Emulator).opListUserPools),
	idpService + "SetUserPoolMfaConfig": typed((*Emulator).opSetUserPoolMfaConfig),
	idpService + "GetUserPoolMfaConfig": typed((*Emulator).opGetUserPoolMfaConfig),

	// schema (schema.go)
	idpService + "AddCustomAttributes": typed((*Emulator).opAddCustomAttributes),

	// app clients (clients.go)
	idpService + "CreateUserPoolClient":   typed((*Emulator).opCreateUserPoolClient),
	idpService + "DescribeUserPoolClient": typed((*Emulator).opDescribeUserPoolClient),
	idpService + "UpdateUserPoolClient":   typed((*Emulator).opUpdateUserPoolClient),
	idpService + "DeleteUserPoolClient":   typed((*Emulator).opDeleteUserPoolClient),
	idpService + "ListUserPoolClients":    typed((*Emulator).opListUserPoolClients),

	// client secrets (clientsecrets.go)
	idpService + "AddUserPoolClientSecret":    typed((*Emulator).opAddUserPoolClientSecret),
	idpService + "ListUserPoolClientSecrets":  typed((*Emulator).opListUserPoolClientSecrets),
	idpService + "DeleteUserPoolClientSecret": typed((*Emulator).opDeleteUserPoolClientSecret),

	// users, by an administrator (users.go)
	idpService + "AdminCreateUser":           typed((*Emulator).opAdminCreateUser),
	idpService + "AdminSetUserPassword":      typed((*Emulator).opAdminSetUserPassword),
	idpService + "AdminGetUser":              typed((*Emulator).opAdminGetUser),
	idpService + "AdminDeleteUser":           typed((*Emulator).opAdminDeleteUser),
	idpService + "AdminDisableUser":          typed((*Emulator).opAdminDisableUser),
	idpService + "AdminEnableUser":           typed((*Emulator).opAdminEnableUser),
	idpService + "AdminUpdateUserAttributes": typed((*Emulator).opAdminUpdateUserAttributes),
	idpService + "AdminConfirmSignUp":        typed((*Emulator).opAdminConfirmSignUp),
	idpService + "AdminUserGlobalSignOut":    typed((*Emulator).opAdminUserGlobalSignOut),
	idpService + "ListUsers":                 typed((*Emulator).opListUsers),
	idpService + "AdminDeleteUserAttributes": typed((*Emulator).opAdminDeleteUserAttributes),

	// groups (groups.go)
	idpService + "CreateGroup":              typed((*Emulator).opCreateGroup),
	idpService + "GetGroup":                 typed((*Emulator).opGetGroup),
	idpService + "ListGroups":               typed((*Emulator).opListGroups),
	idpService + "DeleteGroup":              typed((*Emulator).opDeleteGroup),
	idpService + "AdminAddUserToGroup":      typed((*Emulator).opAdminAddUserToGroup),
	idpService + "AdminRemoveUserFromGroup": typed((*Emulator).opAdminRemoveUserFromGroup),
	idpService + "AdminListGroupsForUser":   typed((*Emulator).opAdminListGroupsForUser),
	idpService + "UpdateGroup":              typed((*Emulator).opUpdateGroup),
	idpService + "ListUsersInGroup":         typed((*Emulator).opListUsersInGroup),

	// user import jobs (importjobs.go)
	idpService + "GetCSVHeader":          typed((*Emulator).opGetCSVHeader),
	idpService + "CreateUserImportJob":   typed((*Emulator).opCreateUserImportJob),
	idpService + "DescribeUserImportJob": typed((*Emulator).opDescribeUserImportJob),
	idpService + "ListUserImportJobs":    typed((*Emulator).opListUserImportJobs),
	idpService + "StartUserImportJob":    typed((*Emulator).opStartUserImportJob),
	idpService + "StopUserImportJob":     typed((*Emulator).opStopUserImportJob),

	// sign-up and the signed-in user (selfservice.go)
	idpService + "SignUp":                 typed((*Emulator).opSignUp),
	idpService + "ConfirmSignUp":          typed((*Emulator).opConfirmSignUp),
	idpService + "ResendConfirmationCode": typed((*Emulator).opResendConfirmationCode),
	idpService + "ForgotPassword":         typed((*Emulator).opForgotPassword),
	idpService + "ConfirmForgotPassword":  typed((*Emulator).opConfirmForgotPassword),
	idpService + "ChangePassword":         typed((*Emulator).opChangePassword),
	idpService + "GetUser":                typed((*Emulator).opGetUser),
	idpService + "UpdateUserAttributes":   typed((*Emulator).opUpdateUserAttributes),
	idpService + "DeleteUser":             typed((*Emulator).opDeleteUser),
	idpService + "GlobalSignOut":          typed((*Emulator).opGlobalSignOut),

	// attribute verification (account.go)
	idpService + "GetUserAttributeVerificationCode": typed((*Emulator).opGetUserAttributeVerificationCode),
	idpService + "VerifyUserAttribute":              typed((*Emulator).opVerifyUserAttribute),
	idpService + "DeleteUserAttributes":             typed((*Emulator).opDeleteUserAttributes),

	// sign-in and tokens (auth.go)
	idpService + "InitiateAuth":              typed((*Emulator).opInitiateAuth),
	idpService + "RespondToAuthChallenge":    typed((*Emulator).opRespondToAuthChallenge),
	idpService + "GetTokensFromRefreshToken": typed((*Emulator).opGetTokensFromRefreshToken),
	idpService + "RevokeToken":               typed((*Emulator).opRevokeToken),

	// server-side sign-in and password reset (adminauth.go)
	idpService + "AdminInitiateAuth":           typed((*Emulator).opAdminInitiateAuth),
	idpService + "AdminRespondToAuthChallenge": typed((*Emulator).opAdminRespondToAuthChallenge),
	idpService + "AdminResetUserPassword":      typed((*Emulator).opAdminResetUserPassword),

	// sign-in factors (USER_AUTH) (userauth.go)
	idpService + "GetUserAuthFactors": typed((*Emulator).opGetUserAuthFactors),

	// MFA (mfa.go)
	idpService + "AdminSetUserMFAPreference": typed((*Emulator).opAdminSetUserMFAPreference),
	idpService + "AssociateSoftwareToken":    typed((*Emulator).opAssociateSoftwareToken),
	idpService + "VerifySoftwareToken":       typed((*Emulator).opVerifySoftwareToken),
	idpService + "SetUserMFAPreference":      typed((*Emulator).opSetUserMFAPreference),
	idpService + "SetUserSettings":           typed((*Emulator).opSetUserSettings),
	idpService + "AdminSetUserSettings":      typed((*Emulator).opAdminSetUserSettings),

	// passkeys (webauthn.go)
	idpService + "StartWebAuthnRegistration":    typed((*Emulator).opStartWebAuthnRegistration),
	idpService + "CompleteWebAuthnRegistration": typed((*Emulator).opCompleteWebAuthnRegistration),
	idpService + "ListWebAuthnCredentials":      typed((*Emulator).opListWebAuthnCredentials),
	idpService + "DeleteWebAuthnCredential":     typed((*Emulator).opDeleteWebAuthnCredential),

	// devices (devices.go)
	idpService + "ConfirmDevice":           typed((*Emulator).opConfirmDevice),
	idpService + "GetDevice":               typed((*Emulator).opGetDevice),
	idpService + "ListDevices":             typed((*Emulator).opListDevices),
	idpService + "ForgetDevice":            typed((*Emulator).opForgetDevice),
	idpService + "UpdateDeviceStatus":      typed((*Emulator).opUpdateDeviceStatus),
	idpService + "AdminGetDevice":          typed((*Emulator).opAdminGetDevice),
	idpService + "AdminListDevices":        typed((*Emulator).opAdminListDevices),
	idpService + "AdminForgetDevice":       typed((*Emulator).opAdminForgetDevice),
	idpService + "AdminUpdateDeviceStatus": typed((*Emulator).opAdminUpdateDeviceStatus),

	// domains (domains.go)
	idpService + "CreateUserPoolDomain":   typed((*Emulator).opCreateUserPoolDomain),
	idpService + "DescribeUserPoolDomain": typed((*Emulator).opDescribeUserPoolDomain),
	idpService + "UpdateUserPoolDomain":   typed((*Emulator).opUpdateUserPoolDomain),
	idpService + "DeleteUserPoolDomain":   typed((*Emulator).opDeleteUserPoolDomain),

	// resource servers (resourceservers.go)
	idpService + "CreateResourceServer":   typed((*Emulator).opCreateResourceServer),
	idpService + "DescribeResourceServer": typed((*Emulator).opDescribeResourceServer),
	idpService + "UpdateResourceServer":   typed((*Emulator).opUpdateResourceServer),
	idpService + "DeleteResourceServer":   typed((*Emulator).opDeleteResourceServer),
	idpService + "ListResourceServers":    typed((*Emulator).opListResourceServers),

	// identity providers (identityproviders.go)
	idpService + "GetSigningCertificate":           typed((*Emulator).opGetSigningCertificate),
	idpService + "CreateIdentityProvider":          typed((*Emulator).opCreateIdentityProvider),
	idpService + "DescribeIdentityProvider":        typed((*Emulator).opDescribeIdentityProvider),
	idpService + "UpdateIdentityProvider":          typed((*Emulator).opUpdateIdentityProvider),
	idpService + "DeleteIdentityProvider":          typed((*Emulator).opDeleteIdentityProvider),
	idpService + "ListIdentityProviders":           typed((*Emulator).opListIdentityProviders),
	idpService + "GetIdentityProviderByIdentifier": typed((*Emulator).opGetIdentityProviderByIdentifier),

	// linked provider users (federation_link.go)
	idpService + "AdminLinkProviderForUser":    typed((*Emulator).opAdminLinkProviderForUser),
	idpService + "AdminDisableProviderForUser": typed((*Emulator).opAdminDisableProviderForUser),

	// managed login branding and UI customization (branding.go)
	idpService + "GetUICustomization":                   typed((*Emulator).opGetUICustomization),
	idpService + "SetUICustomization":                   typed((*Emulator).opSetUICustomization),
	idpService + "CreateManagedLoginBranding":           typed((*Emulator).opCreateManagedLoginBranding),
	idpService + "DescribeManagedLoginBranding":         typed((*Emulator).opDescribeManagedLoginBranding),
	idpService + "DescribeManagedLoginBrandingByClient": typed((*Emulator).opDescribeManagedLoginBrandingByClient),
	idpService + "UpdateManagedLoginBranding":           typed((*Emulator).opUpdateManagedLoginBranding),
	idpService + "DeleteManagedLoginBranding":           typed((*Emulator).opDeleteManagedLoginBranding),

	// terms documents (terms.go)
	idpService + "CreateTerms":   typed((*Emulator).opCreateTerms),
	idpService + "DescribeTerms": typed((*Emulator).opDescribeTerms),
	idpService + "ListTerms":     typed((*Emulator).opListTerms),
	idpService + "UpdateTerms":   typed((*Emulator).opUpdateTerms),
	idpService + "DeleteTerms":   typed((*Emulator).opDeleteTerms),

	// tags (tags.go)
	idpService + "TagResource":         typed((*Emulator).opTagResource),
	idpService + "UntagResource":       typed((*Emulator).opUntagResource),
	idpService + "ListTagsForResource": typed((*Emulator).opListTagsForResource),

	// threat protection: risk configuration, auth events, log delivery (security.go)
	idpService + "DescribeRiskConfiguration":    typed((*Emulator).opDescribeRiskConfiguration),
	idpService + "SetRiskConfiguration":         typed((*Emulator).opSetRiskConfiguration),
	idpService + "GetLogDeliveryConfiguration":  typed((*Emulator).opGetLogDeliveryConfiguration),
	idpService + "SetLogDeliveryConfiguration":  typed((*Emulator).opSetLogDeliveryConfiguration),
	idpService + "AdminListUserAuthEvents":      typed((*Emulator).opAdminListUserAuthEvents),
	idpService + "AdminUpdateAuthEventFeedback": typed((*Emulator).opAdminUpdateAuthEventFeedback),
	idpService + "UpdateAuthEventFeedback":      typed((*Emulator).opUpdateAuthEventFeedback),

	// ---- identity pools (AWSCognitoIdentityService) ----

	// identity pools, their roles, and sign-in (identitypool.go)
	identityService + "CreateIdentityPool":        typed((*Emulator).opCreateIdentityPool),
	identityService + "DescribeIdentityPool":      typed((*Emulator).opDescribeIdentityPool),
	identityService + "UpdateIdentityPool":        typed((*Emulator).opUpdateIdentityPool),
	identityService + "DeleteIdentityPool":        typed((*Emulator).opDeleteIdentityPool),
	identityService + "ListIdentityPools":         typed((*Emulator).opListIdentityPools),
	identityService + "SetIdentityPoolRoles":      typed((*Emulator).opSetIdentityPoolRoles),
	identityService + "GetIdentityPoolRoles":      typed((*Emulator).opGetIdentityPoolRoles),
	identityService + "DescribeIdentity":          typed((*Emulator).opDescribeIdentity),
	identityService + "GetId":                     typed((*Emulator).opGetId),
	identityService + "GetCredentialsForIdentity": typed((*Emulator).opGetCredentialsForIdentity),
	identityService + "GetOpenIdToken":            typed((*Emulator).opGetOpenIdToken),

	// identities (identities.go)
	identityService + "ListIdentities":   typed((*Emulator).opListIdentities),
	identityService + "DeleteIdentities": typed((*Emulator).opDeleteIdentities),
	identityService + "UnlinkIdentity":   typed((*Emulator).opUnlinkIdentity),

	// developer-authenticated identities (identity_developer.go)
	identityService + "GetOpenIdTokenForDeveloperIdentity": typed((*Emulator).opGetOpenIdTokenForDeveloperIdentity),
	identityService + "LookupDeveloperIdentity":            typed((*Emulator).opLookupDeveloperIdentity),
	identityService + "MergeDeveloperIdentities":           typed((*Emulator).opMergeDeveloperIdentities),
	identityService + "UnlinkDeveloperIdentity":            typed((*Emulator).opUnlinkDeveloperIdentity),

	// tags and principal tags (identity_tags.go)
	identityService + "TagResource":                 typed((*Emulator).opTagIdentityPool),
	identityService + "UntagResource":               typed((*Emulator).opUntagIdentityPool),
	identityService + "ListTagsForResource":         typed((*Emulator).opListIdentityPoolTags),
	identityService + "SetPrincipalTagAttributeMap": typed((*Emulator).opSetPrincipalTagAttributeMap),
	identityService + "GetPrincipalTagAttributeMap": typed((*Emulator).opGetPrincipalTagAttributeMap),
}
