package emulator

// UserMigration: when a user who signs in with a password (USER_PASSWORD_AUTH) or
// asks for a password reset is not in the pool, Cognito asks the pool's
// UserMigration function for the user, creates it from the answer and carries on.

type userMigrationRequest struct {
	Password       *string           `json:"password,omitempty"` // Authentication only
	ValidationData map[string]string `json:"validationData"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

type userMigrationResponse struct {
	UserAttributes         map[string]string `json:"userAttributes"`
	FinalUserStatus        *string           `json:"finalUserStatus"`
	MessageAction          *string           `json:"messageAction"`
	DesiredDeliveryMediums []string          `json:"desiredDeliveryMediums"`
	ForceAliasCreation     *bool             `json:"forceAliasCreation"`
	EnableSMSMFA           *bool             `json:"enableSMSMFA"`
}

// migrateUser asks p's UserMigration function for the user a client calls name,
// and creates it: with password for a sign-in (source Authentication), without
// one for ForgotPassword. It returns nil, nil when the pool has no such trigger.
// A function that fails or answers without attributes means "no such user":
// Cognito's UserNotFoundException "Exception migrating user in app client …"
// (NotAuthorizedException where the client hides user existence); a timeout or an
// unreadable answer are the usual Lambda errors.
func (e *Emulator) migrateUser(c *call, p *userPool, cl *appClient, name, password, source string) (*user, error) {
	if p.triggerARN(trigUserMigration) == "" {
		return nil, nil
	}
	req := userMigrationRequest{ValidationData: c.clientMetadata(), ClientMetadata: c.clientMetadata()}
	if source == "Authentication" {
		req.Password = strPtr(password)
	}
	ev := e.newEvent(c, p, "UserMigration_"+source, strPtr(name), req, userMigrationResponse{})
	var resp userMigrationResponse
	if _, err := e.runTrigger(c, p, trigUserMigration, ev, &resp); err != nil {
		if ae, ok := err.(*Error); ok && ae.Name == "UserLambdaValidationException" {
			return nil, migrationNotFound(cl)
		}
		return nil, err
	}
	if len(resp.UserAttributes) == 0 {
		return nil, migrationNotFound(cl)
	}
	status, attrs, why := readMigrationAnswer(&resp, source)
	if why != "" {
		return nil, e.invalidAnswer(p, trigUserMigration, errLambdaUnrecognized, why)
	}
	u, err := e.newUser(p, name, attrs, c.now)
	if err != nil {
		// Created meanwhile by another request, or a name the pool cannot hold.
		return nil, err
	}
	u.Status = status
	if password != "" && source == "Authentication" {
		if err := e.setPassword(p, u, password); err != nil {
			return nil, err
		}
	}
	if resp.EnableSMSMFA != nil && *resp.EnableSMSMFA && u.Attributes["phone_number"] != "" {
		u.MFA.SMSEnabled = true
	}
	e.dirty = true
	return u, nil
}

// migrationNotFound is the error for a user the migration function does not
// know.
func migrationNotFound(cl *appClient) error {
	if cl.PreventUserExistence == "ENABLED" {
		return errBadCredentials()
	}
	return newErr("UserNotFoundException", "Exception migrating user in app client %s", cl.ID)
}

// readMigrationAnswer reads the migration function's answer: the user's status
// and attributes, or why the answer is refused.
func readMigrationAnswer(resp *userMigrationResponse, source string) (string, []attribute, string) {
	status := "CONFIRMED"
	if resp.FinalUserStatus != nil && *resp.FinalUserStatus != "" {
		status = *resp.FinalUserStatus
	}
	if source == "ForgotPassword" {
		// The user has no password yet: the reset sets it.
		status = "RESET_REQUIRED"
	}
	if status != "CONFIRMED" && status != "RESET_REQUIRED" {
		return "", nil, "finalUserStatus must be CONFIRMED or RESET_REQUIRED"
	}
	if a := resp.MessageAction; a != nil && *a != "" && *a != "SUPPRESS" && *a != "RESEND" {
		return "", nil, "messageAction must be SUPPRESS or RESEND"
	}
	attrs := make([]attribute, 0, len(resp.UserAttributes))
	for k, v := range resp.UserAttributes {
		if k == "username" || k == "sub" {
			continue // Cognito names and identifies the user itself
		}
		attrs = append(attrs, attribute{k, v})
	}
	if err := checkAttributes(attrs); err != nil {
		return "", nil, "userAttributes refused: " + err.Error()
	}
	return status, attrs, ""
}
