package emulator

import (
	"regexp"
)

// LambdaConfig is a pool's Lambda triggers, as Cognito's LambdaConfigType: the
// function ARN of each trigger. CreateUserPool and UpdateUserPool store it and
// DescribeUserPool echoes it; the trigger runner reads it from the pool.
type LambdaConfig struct {
	PreSignUp                   string `json:"PreSignUp,omitempty"`
	CustomMessage               string `json:"CustomMessage,omitempty"`
	PostConfirmation            string `json:"PostConfirmation,omitempty"`
	PreAuthentication           string `json:"PreAuthentication,omitempty"`
	PostAuthentication          string `json:"PostAuthentication,omitempty"`
	DefineAuthChallenge         string `json:"DefineAuthChallenge,omitempty"`
	CreateAuthChallenge         string `json:"CreateAuthChallenge,omitempty"`
	VerifyAuthChallengeResponse string `json:"VerifyAuthChallengeResponse,omitempty"`
	PreTokenGeneration          string `json:"PreTokenGeneration,omitempty"`
	UserMigration               string `json:"UserMigration,omitempty"`
	// PreTokenGenerationConfig names the event version (V1_0, V2_0, V3_0);
	// Cognito keeps its LambdaArn equal to PreTokenGeneration.
	PreTokenGenerationConfig *VersionedLambda `json:"PreTokenGenerationConfig,omitempty"`
	CustomSMSSender          *VersionedLambda `json:"CustomSMSSender,omitempty"`
	CustomEmailSender        *VersionedLambda `json:"CustomEmailSender,omitempty"`
	InboundFederation        *VersionedLambda `json:"InboundFederation,omitempty"`
	KMSKeyID                 string           `json:"KMSKeyID,omitempty"`
}

// VersionedLambda is a trigger with an event version (LambdaVersion, LambdaArn).
type VersionedLambda struct {
	LambdaVersion string `json:"LambdaVersion"`
	LambdaArn     string `json:"LambdaArn"`
}

// arnPattern is the ArnType pattern of Cognito's service model.
var arnPattern = regexp.MustCompile(`^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$`)

func checkARN(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) < 20 || len(v) > 2048 || !arnPattern.MatchString(v) {
		return errInvalidParameter("1 validation error detected: Value '%s' at 'lambdaConfig.%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", clip(v), field, arnPattern.String())
	}
	return nil
}

// normalize validates lc as Cognito does and fills what Cognito derives: a
// PreTokenGeneration ARN without a version is V1_0, and the two ways of naming
// the pre token generation function must agree. It returns nil for a config
// naming no function.
func (lc *LambdaConfig) normalize() (*LambdaConfig, error) {
	if lc == nil {
		return nil, nil
	}
	out := *lc
	for _, f := range []struct{ name, v string }{
		{"preSignUp", out.PreSignUp}, {"customMessage", out.CustomMessage}, {"postConfirmation", out.PostConfirmation},
		{"preAuthentication", out.PreAuthentication}, {"postAuthentication", out.PostAuthentication},
		{"defineAuthChallenge", out.DefineAuthChallenge}, {"createAuthChallenge", out.CreateAuthChallenge},
		{"verifyAuthChallengeResponse", out.VerifyAuthChallengeResponse}, {"preTokenGeneration", out.PreTokenGeneration},
		{"userMigration", out.UserMigration},
	} {
		if err := checkARN(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if err := out.checkVersioned(); err != nil {
		return nil, err
	}
	if (out.CustomSMSSender != nil || out.CustomEmailSender != nil) && out.KMSKeyID == "" {
		return nil, errInvalidParameter("KMSKeyID must be provided when configuring CustomSMSSender or CustomEmailSender.")
	}
	if err := out.derivePreTokenGeneration(); err != nil {
		return nil, err
	}
	if out == (LambdaConfig{}) {
		return nil, nil
	}
	return &out, nil
}

// lambdaVersions are the versions each versioned trigger may name.
var lambdaVersions = map[string][]string{
	"preTokenGenerationConfig": {"V1_0", "V2_0", "V3_0"},
	"customSMSSender":          {"V1_0"},
	"customEmailSender":        {"V1_0"},
	"inboundFederation":        {"V1_0"},
}

// checkVersioned validates each versioned trigger (an ARN and a version it may
// name), copying it so that lc shares nothing with the request.
func (lc *LambdaConfig) checkVersioned() error {
	for name, vl := range map[string]**VersionedLambda{
		"preTokenGenerationConfig": &lc.PreTokenGenerationConfig, "customSMSSender": &lc.CustomSMSSender,
		"customEmailSender": &lc.CustomEmailSender, "inboundFederation": &lc.InboundFederation,
	} {
		if *vl == nil {
			continue
		}
		c := **vl
		*vl = &c
		if err := checkARN(name+".lambdaArn", c.LambdaArn); err != nil {
			return err
		}
		if c.LambdaArn == "" {
			return errInvalidParameter("1 validation error detected: Value null at 'lambdaConfig.%s.lambdaArn' failed to satisfy constraint: Member must not be null", name)
		}
		if !contains(lambdaVersions[name], c.LambdaVersion) {
			return errInvalidParameter("1 validation error detected: Value '%s' at 'lambdaConfig.%s.lambdaVersion' failed to satisfy constraint: Member must satisfy enum value set: %v", clip(c.LambdaVersion), name, lambdaVersions[name])
		}
	}
	return nil
}

// derivePreTokenGeneration makes PreTokenGeneration and
// PreTokenGenerationConfig name the same function, as Cognito does: the ARN
// alone is version 1, and two different ARNs are refused.
func (lc *LambdaConfig) derivePreTokenGeneration() error {
	switch ptg := lc.PreTokenGenerationConfig; {
	case ptg != nil && lc.PreTokenGeneration == "":
		lc.PreTokenGeneration = ptg.LambdaArn
	case ptg != nil && ptg.LambdaArn != lc.PreTokenGeneration:
		return errInvalidParameter("PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same.")
	case ptg == nil && lc.PreTokenGeneration != "":
		lc.PreTokenGenerationConfig = &VersionedLambda{LambdaVersion: "V1_0", LambdaArn: lc.PreTokenGeneration}
	}
	return nil
}
